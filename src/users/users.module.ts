import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { BootstrapAdmin } from './bootstrap-admin';
import { AdminUsersController } from './admin-users.controller';
import { AdminUsersService } from './admin-users.service';
import { MeController } from './me.controller';
import { UsersService } from './users.service';

@Module({
  imports: [AuthModule],
  controllers: [MeController, AdminUsersController],
  providers: [UsersService, AdminUsersService, BootstrapAdmin],
  exports: [UsersService],
})
export class UsersModule {}
