import { Module, type OnModuleInit } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { AbilityFactory } from './ability-factory';
import { PoliciesController } from './http/policies.controller';
import { RolesController } from './http/roles.controller';
import { PoliciesGuard } from './policies.guard';
import { PolicyCheckService } from './policy-check.service';
import { PolicyEnforcer } from './policy-enforcer';
import { GrantCheck } from './grant-check';
import { RoleCatalog } from './role-catalog';
import { RoleSeeder } from './role-seeder';
import { Role } from './role.entity';
import { RolesService } from './roles.service';
import { SubjectRecords, SubjectRecordsModule } from './subject-records';

/** What you may do: roles, the ability factory, record/field checks and rules → SQL. */
@Module({
  imports: [AuthModule, AuditModule, SubjectRecordsModule],
  controllers: [RolesController, PoliciesController],
  providers: [RoleSeeder, RoleCatalog, AbilityFactory, PolicyEnforcer, PoliciesGuard, GrantCheck, RolesService, PolicyCheckService],
  exports: [RoleSeeder, AbilityFactory, PolicyEnforcer, PoliciesGuard, GrantCheck],
})
export class PoliciesModule implements OnModuleInit {
  constructor(private readonly records: SubjectRecords) {}

  onModuleInit(): void {
    this.records.registerEntity('Role', Role);
  }
}
