import { Module } from '@nestjs/common';
import { AuditService } from './audit.service';

/** The audit trail's writer, used by every module that changes something. Reading it is AuditQueryModule. */
@Module({ providers: [AuditService], exports: [AuditService] })
export class AuditModule {}
