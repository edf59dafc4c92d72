import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthenticationGuard } from './authentication.guard';

@Module({
  providers: [{ provide: APP_GUARD, useClass: AuthenticationGuard }],
})
export class AuthModule {}
