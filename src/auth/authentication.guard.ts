import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { safeEqual } from '../common/crypto/safe-equal';
import { IS_PUBLIC } from '../common/decorators/public.decorator';
import { DomainError } from '../common/problem/domain-error';
import type { Principal } from './principal/principal';
import { PrincipalResolver } from './principal/principal-resolver';
import { SESSION_COOKIE } from './sessions/session-credentials';
import { VerifiedTokenCache } from './tokens/verified-token-cache';

export const BEARER_CHALLENGE = { 'www-authenticate': 'Bearer' };
/** RFC 6750: a credential was presented but is invalid, expired or revoked. */
export const INVALID_TOKEN_CHALLENGE = { 'www-authenticate': 'Bearer error="invalid_token"' };
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const unauthenticated = () => new DomainError('unauthenticated', 'Authentication is required', undefined, BEARER_CHALLENGE);

function refuse(err: unknown): never {
  if (err instanceof DomainError) throw err;
  throw new DomainError('unauthenticated', 'The credentials are missing, invalid, expired or revoked', undefined, INVALID_TOKEN_CHALLENGE);
}

@Injectable()
class BearerAuthGuard extends AuthGuard('jwt') {
  override handleRequest<T>(err: unknown, user: T | false): T {
    return user ? user : refuse(err);
  }
}

@Injectable()
class CookieAuthGuard extends AuthGuard('session-cookie') {
  override handleRequest<T>(err: unknown, user: T | false): T {
    return user ? user : refuse(err);
  }
}

/** Cookie mode: unsafe methods must echo the session's CSRF token (ASVS 3.5). */
export function assertCsrf(request: FastifyRequest, principal: Pick<Principal, 'via' | 'csrfToken'>): void {
  if (principal.via !== 'cookie' || SAFE_METHODS.has(request.method)) return;
  const given = request.headers['x-csrf-token'];
  if (typeof given !== 'string' || !principal.csrfToken || !safeEqual(given, principal.csrfToken)) {
    throw new DomainError('forbidden', 'A valid X-CSRF-Token header is required for this request');
  }
}

/**
 * Deny by default: every route needs an authenticated caller unless it is marked @Public(). A
 * bearer token is tried when an Authorization header is present, else the session cookie; a
 * request with neither is refused without running any strategy.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  private readonly bearer = new BearerAuthGuard();
  private readonly cookie = new CookieAuthGuard();

  constructor(
    private readonly reflector: Reflector,
    private readonly verified: VerifiedTokenCache,
    private readonly principals: PrincipalResolver,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: Principal }>();
    if (request.headers.authorization) {
      await this.authenticateBearer(context, request);
    } else if (request.cookies?.[SESSION_COOKIE]) {
      await this.cookie.canActivate(context);
      assertCsrf(request, request.user!);
    } else {
      throw unauthenticated();
    }
    return true;
  }

  private async authenticateBearer(context: ExecutionContext, request: FastifyRequest & { user?: Principal }): Promise<void> {
    const token = bearerToken(request.headers.authorization);
    const known = token ? this.verified.get(token) : undefined;
    if (!known) {
      await this.bearer.canActivate(context);
      const { roles: _roles, departmentId: _departmentId, ...credential } = request.user!;
      if (token) this.verified.remember(token, credential);
      return;
    }
    // Verified before: only what can change — revocation, status, roles — is resolved again.
    const principal = await this.principals.resolve(known);
    if (!principal) refuse(undefined);
    request.user = principal;
  }
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer ([A-Za-z0-9._~+/=-]{20,4096})$/.exec(header ?? '');
  return match?.[1];
}
