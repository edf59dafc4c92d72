import { Global, Module, type OnModuleInit } from '@nestjs/common';
import { SubjectRecords, SubjectRecordsModule } from '../policies/subject-records';
import { AuditEvent } from './audit-event.entity';
import { AuditController } from './audit.controller';
import { AuditQueryService } from './audit-query.service';
import { AuditService } from './audit.service';

@Global()
@Module({ imports: [SubjectRecordsModule], controllers: [AuditController], providers: [AuditService, AuditQueryService], exports: [AuditService] })
export class AuditModule implements OnModuleInit {
  constructor(private readonly records: SubjectRecords) {}

  onModuleInit(): void {
    this.records.registerEntity('AuditEvent', AuditEvent);
  }
}
