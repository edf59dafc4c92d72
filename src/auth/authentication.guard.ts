import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IS_PUBLIC } from '../common/decorators/public.decorator';
import { DomainError } from '../common/problem/domain-error';

export const BEARER_CHALLENGE = { 'www-authenticate': 'Bearer' };

/**
 * Deny by default: every route needs an authenticated caller unless it is marked @Public().
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    throw new DomainError('unauthenticated', 'Authentication is required', undefined, BEARER_CHALLENGE);
  }
}
