import { Module, type OnModuleInit } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { PoliciesModule } from '../policies/policies.module';
import { SubjectRecords, SubjectRecordsModule } from '../policies/subject-records';
import { Department } from './department.entity';
import { DepartmentsController } from './departments.controller';
import { DepartmentsService } from './departments.service';

@Module({ imports: [AuditModule, PoliciesModule, SubjectRecordsModule], controllers: [DepartmentsController], providers: [DepartmentsService] })
export class DepartmentsModule implements OnModuleInit {
  constructor(private readonly records: SubjectRecords) {}

  onModuleInit(): void {
    this.records.registerEntity('Department', Department);
  }
}
