import { Module, type OnModuleInit } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { PoliciesModule } from '../policies/policies.module';
import { SubjectRecords, SubjectRecordsModule } from '../policies/subject-records';
import { Document } from './document.entity';
import { DocumentsController } from './documents.controller';
import { DocumentsService } from './documents.service';

@Module({ imports: [AuditModule, PoliciesModule, SubjectRecordsModule], controllers: [DocumentsController], providers: [DocumentsService] })
export class DocumentsModule implements OnModuleInit {
  constructor(private readonly records: SubjectRecords) {}

  onModuleInit(): void {
    this.records.registerEntity('Document', Document);
  }
}
