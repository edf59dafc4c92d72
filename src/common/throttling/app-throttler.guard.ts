import { type ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail, type ThrottlerRequest } from '@nestjs/throttler';
import { DomainError } from '../problem/domain-error';

export const AUTH_THROTTLED = 'bastion:auth-throttled';

/** Marks a credential route (login, register, password, verification, refresh, MFA): it also draws on the one THROTTLE_AUTH_LIMIT budget all of them share. */
export const AuthThrottled = () => SetMetadata(AUTH_THROTTLED, true);

/**
 * THROTTLE_LIMIT per client IP and route on every route; on top, THROTTLE_AUTH_LIMIT per client IP
 * shared by all credential routes together.
 * A refusal is a 429 problem with a plain `Retry-After` (the library only sends
 * `Retry-After-<name>` for named throttlers).
 */
@Injectable()
export class AppThrottlerGuard extends ThrottlerGuard {
  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    if (request.throttler.name === 'auth') {
      const marked = this.reflector.getAllAndOverride<boolean>(AUTH_THROTTLED, [request.context.getHandler(), request.context.getClass()]);
      if (!marked) return true;
    }
    return super.handleRequest(request);
  }

  protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const retryAfter = Math.max(1, Math.ceil(detail.isBlocked ? detail.timeToBlockExpire : detail.timeToExpire));
    throw new DomainError('rateLimited', 'Too many requests; retry later', undefined, { 'retry-after': String(retryAfter) });
  }
}
