import { Module, type OnModuleInit } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { PoliciesModule } from '../policies/policies.module';
import { SubjectRecords, SubjectRecordsModule } from '../policies/subject-records';
import { BootstrapAdmin } from './bootstrap-admin';
import { AdminUsersController } from './admin-users.controller';
import { AdminUsersService } from './admin-users.service';
import { MeController } from './me.controller';
import { UsersService } from './users.service';

@Module({
  imports: [AuthModule, AuditModule, PoliciesModule, SubjectRecordsModule],
  controllers: [MeController, AdminUsersController],
  providers: [UsersService, AdminUsersService, BootstrapAdmin],
  exports: [UsersService],
})
export class UsersModule implements OnModuleInit {
  constructor(
    private readonly records: SubjectRecords,
    private readonly users: UsersService,
  ) {}

  onModuleInit(): void {
    this.records.register('User', async (id) => {
      const view = await this.users.findView(id);
      return view && { ...view };
    });
  }
}
