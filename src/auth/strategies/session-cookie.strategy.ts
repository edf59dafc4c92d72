import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy as PassportStrategyBase } from 'passport-strategy';
import type { Principal } from '../principal/principal';
import { PrincipalResolver } from '../principal/principal-resolver';
import { SESSION_COOKIE } from '../sessions/session-credentials';
import { CookieSessions } from '../sessions/cookie-sessions';

type Verify = (request: FastifyRequest, done: (err: unknown, user?: Principal | false) => void) => void;

/** A Passport strategy that authenticates the `__Host-sid` browser-session cookie. */
class CookieStrategy extends PassportStrategyBase {
  constructor(private readonly verify: Verify) {
    super();
  }

  override authenticate(request: unknown): void {
    this.verify(request as FastifyRequest, (err, user) => {
      if (err) return this.error(err as Error);
      if (!user) return this.fail('no valid session cookie', 401);
      this.success(user);
    });
  }
}

@Injectable()
export class SessionCookieStrategy extends PassportStrategy(CookieStrategy, 'session-cookie') {
  constructor(
    private readonly cookies: CookieSessions,
    private readonly principals: PrincipalResolver,
  ) {
    super();
  }

  async validate(request: FastifyRequest): Promise<Principal | false> {
    const secret = request.cookies?.[SESSION_COOKIE];
    if (!secret || secret.length > 128) return false;
    const credential = await this.cookies.authenticate(secret);
    if (!credential) return false;
    return (await this.principals.resolve(credential)) ?? false;
  }
}
