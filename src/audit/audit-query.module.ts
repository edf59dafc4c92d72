import { Module, type OnModuleInit } from '@nestjs/common';
import { PoliciesModule } from '../policies/policies.module';
import { SubjectRecords, SubjectRecordsModule } from '../policies/subject-records';
import { AuditEvent } from './audit-event.entity';
import { AuditController } from './audit.controller';
import { AuditQueryService } from './audit-query.service';

/**
 * Reading the audit trail (`GET /audit-events`), filtered by policies. Apart from the writer
 * (AuditModule) because the policy engine itself writes audit events.
 */
@Module({ imports: [PoliciesModule, SubjectRecordsModule], controllers: [AuditController], providers: [AuditQueryService] })
export class AuditQueryModule implements OnModuleInit {
  constructor(private readonly records: SubjectRecords) {}

  onModuleInit(): void {
    this.records.registerEntity('AuditEvent', AuditEvent);
  }
}
