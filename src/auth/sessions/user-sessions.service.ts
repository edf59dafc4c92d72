import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { INVALID_TOKEN_CHALLENGE } from '../authentication.guard';
import { safeEqual } from '../../common/crypto/safe-equal';
import { DomainError } from '../../common/problem/domain-error';
import type { Principal } from '../principal/principal';
import { CookieSessions } from './cookie-sessions';
import type { CookieSession, TokenPair } from './session-credentials';
import { SessionService } from './session.service';

export interface RefreshRequest {
  refreshToken?: string;
  cookieSecret?: string;
  csrfToken?: string;
}

export interface SessionSummary {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  ip: string | null;
  userAgent: string | null;
  amr: string[];
  current: boolean;
}

/** What a signed-in user (or an admin, for another user) does with sessions. */
@Injectable()
export class UserSessionsService {
  constructor(
    private readonly em: EntityManager,
    private readonly sessions: SessionService,
    private readonly cookies: CookieSessions,
    private readonly audit: AuditService,
  ) {}

  async refresh(request: RefreshRequest): Promise<TokenPair | CookieSession> {
    if (request.refreshToken) return this.sessions.refresh(request.refreshToken);
    if (!request.cookieSecret) throw new DomainError('validation', 'The request is invalid', [{ field: 'refreshToken', message: 'is required unless a session cookie is sent' }]);
    const credential = await this.cookies.authenticate(request.cookieSecret);
    if (!credential) {
      throw new DomainError('unauthenticated', 'The session cookie is invalid, expired or revoked', undefined, INVALID_TOKEN_CHALLENGE);
    }
    // A cookie-authenticated POST: same CSRF rule as every other unsafe request.
    if (!request.csrfToken || !safeEqual(request.csrfToken, credential.csrfToken)) {
      throw new DomainError('forbidden', 'A valid X-CSRF-Token header is required for this request');
    }
    return this.sessions.rotateCookie(credential.sessionId);
  }

  async logout(principal: Principal): Promise<void> {
    await this.sessions.revoke([principal.sessionId], 'logout');
    await this.audit.record({ type: 'auth.logout', outcome: 'success', actorId: principal.userId, targetType: 'Session', targetId: principal.sessionId });
  }

  async logoutAll(principal: Principal): Promise<void> {
    const ids = await this.sessions.revokeAllOfUser(principal.userId, 'logout_all');
    await this.audit.record({ type: 'auth.logout', outcome: 'success', actorId: principal.userId, targetType: 'User', targetId: principal.userId, details: { all: true, sessions: ids.length } });
  }

  /** Ends every session of the caller but the one making the request. */
  async logoutOthers(principal: Principal): Promise<void> {
    const ids = await this.sessions.revokeAllOfUser(principal.userId, 'logout_others', principal.sessionId);
    await this.audit.record({ type: 'auth.logout', outcome: 'success', actorId: principal.userId, targetType: 'User', targetId: principal.userId, details: { others: true, sessions: ids.length } });
  }

  /** Live sessions of `userId` (not revoked, not past their absolute or idle end). */
  async list(userId: string, currentSessionId?: string): Promise<SessionSummary[]> {
    const rows: { id: string; created_at: Date; last_used_at: Date; ip: string | null; user_agent: string | null; amr: string[]; expires_at: Date; revoked_at: Date | null }[] =
      await this.em.fork().execute(
        `SELECT id, created_at, last_used_at, ip, user_agent, amr, expires_at, revoked_at FROM sessions
          WHERE user_id = ? AND revoked_at IS NULL AND expires_at > now() ORDER BY created_at DESC LIMIT 1000`,
        [userId],
      );
    return rows
      .filter((r) => this.sessions.isUsable(r))
      .map((r) => ({
        id: r.id,
        createdAt: new Date(r.created_at).toISOString(),
        lastUsedAt: new Date(r.last_used_at).toISOString(),
        ip: r.ip,
        userAgent: r.user_agent,
        amr: r.amr,
        current: r.id === currentSessionId,
      }));
  }

  /** Ends one of `userId`'s sessions; another user's (or an unknown) session is "not found". */
  async end(actorId: string, userId: string, sessionId: string): Promise<void> {
    const rows: { id: string }[] = await this.em.fork().execute('SELECT id FROM sessions WHERE id = ? AND user_id = ? AND revoked_at IS NULL', [sessionId, userId]);
    if (!rows.length) throw new DomainError('notFound', 'No such session');
    await this.sessions.revoke([sessionId], actorId === userId ? 'logout' : 'ended_by_admin');
    await this.audit.record({ type: 'auth.logout', outcome: 'success', actorId, targetType: 'Session', targetId: sessionId, details: { userId } });
  }
}
