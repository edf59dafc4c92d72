import { Injectable } from '@nestjs/common';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import { SESSION_COOKIE } from '../auth/sessions/session-credentials';
import { CookieSessions } from '../auth/sessions/cookie-sessions';
import { SessionService } from '../auth/sessions/session.service';

type LogoutContext = KoaContextWithOIDC & { state: { endBastionSession?: boolean }; path: string };

/**
 * RP-initiated logout ends the Bastion session of the browser too (and with it every grant given
 * in it, through OidcSessionLinks). The provider announces a confirmed logout with
 * `end_session.success` (with `logout=yes`: the user chose to sign out everywhere); the session
 * is revoked before the response leaves.
 */
@Injectable()
export class BastionLogout {
  constructor(
    private readonly cookies: CookieSessions,
    private readonly sessions: SessionService,
  ) {}

  attach(provider: Provider & { use(middleware: (ctx: LogoutContext, next: () => Promise<void>) => Promise<void>): void }): void {
    // Only "Sign out" (logout=yes) ends the Bastion session; "Stay signed in" ends only the client's grant.
    provider.on('end_session.success', (ctx: LogoutContext) => {
      ctx.state.endBastionSession = Boolean(ctx.oidc.params?.logout);
    });
    provider.use(async (ctx, next) => {
      await next();
      if (!ctx.state.endBastionSession) return;
      const secret = ctx.cookies.get(SESSION_COOKIE, { signed: false });
      const credential = secret && secret.length <= 128 ? await this.cookies.authenticate(secret) : null;
      if (credential) await this.sessions.revoke([credential.sessionId], 'oidc_logout');
      ctx.append('Set-Cookie', `${SESSION_COOKIE}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Strict`);
    });
  }
}
