import { Module } from '@nestjs/common';
import { RoleSeeder } from './role-seeder';

/** What you may do. Roles live here; the policy engine arrives on top of them. */
@Module({ providers: [RoleSeeder], exports: [RoleSeeder] })
export class PoliciesModule {}
