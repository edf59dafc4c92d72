import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthenticationGuard } from './auth/authentication.guard';
import { AppThrottlerGuard } from './common/throttling/app-throttler.guard';
import { ThrottlingModule } from './common/throttling/throttling.module';
import { PoliciesGuard } from './policies/policies.guard';
import { PoliciesModule } from './policies/policies.module';
import { AuthModule } from './auth/auth.module';

/**
 * The three global guards, in the order Nest runs them (the order they are listed here):
 * 1. throttle first, so a flood is refused before any token is verified or any query runs;
 * 2. authentication, deny by default (routes opt out with @Public()): it sets the principal;
 * 3. policies, deny by default again: it needs that principal, and a route must declare
 *    @CheckPolicy() or @SignedIn().
 */
@Module({
  imports: [ThrottlingModule, AuthModule, PoliciesModule],
  providers: [
    { provide: APP_GUARD, useExisting: AppThrottlerGuard },
    { provide: APP_GUARD, useExisting: AuthenticationGuard },
    { provide: APP_GUARD, useExisting: PoliciesGuard },
  ],
})
export class GuardOrderModule {}
