import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { PoliciesModule } from '../policies/policies.module';
import { BootstrapAdmin } from './bootstrap-admin';
import { MeController } from './me.controller';
import { UsersService } from './users.service';

@Module({
  imports: [AuthModule, PoliciesModule],
  controllers: [MeController],
  providers: [UsersService, BootstrapAdmin],
  exports: [UsersService],
})
export class UsersModule {}
