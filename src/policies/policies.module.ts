import { Global, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AbilityFactory } from './ability-factory';
import { PoliciesController } from './http/policies.controller';
import { RolesController } from './http/roles.controller';
import { PolicyCheckService } from './policy-check.service';
import { PolicyEnforcer } from './policy-enforcer';
import { GrantCheck } from './grant-check';
import { RoleCatalog } from './role-catalog';
import { RoleSeeder } from './role-seeder';
import { RolesService } from './roles.service';
import { SubjectRecords } from './subject-records';

/** What you may do: roles, the ability factory, record/field checks and rules → SQL. */
@Global()
@Module({
  imports: [AuthModule],
  controllers: [RolesController, PoliciesController],
  providers: [RoleSeeder, RoleCatalog, AbilityFactory, PolicyEnforcer, GrantCheck, RolesService, PolicyCheckService, SubjectRecords],
  exports: [RoleSeeder, AbilityFactory, PolicyEnforcer, GrantCheck],
})
export class PoliciesModule {}
