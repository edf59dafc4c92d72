import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { DomainError } from '../../common/problem/domain-error';
import type { Principal } from '../principal/principal';
import type { CookieSession, TokenPair } from './session-credentials';
import { Session } from './session.entity';
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

export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: Date;
  lastUsedAt: Date;
  ip: string | null;
  userAgent: string | null;
  amr: string[];
}

/** What a signed-in user (or an admin, for another user) does with sessions. */
@Injectable()
export class UserSessionsService {
  constructor(
    private readonly em: EntityManager,
    private readonly sessions: SessionService,
    private readonly audit: AuditService,
  ) {}

  async refresh(request: RefreshRequest): Promise<TokenPair | CookieSession> {
    if (request.refreshToken) return this.sessions.refresh(request.refreshToken);
    if (!request.cookieSecret) throw new DomainError('validation', 'The request is invalid', [{ field: 'refreshToken', message: 'is required unless a session cookie is sent' }]);
    return this.sessions.rotateCookie(request.cookieSecret, request.csrfToken);
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

  /**
   * Live sessions of `userId` (not revoked, not past their absolute or idle end), within `policy`:
   * the SQL filter of the sessions the caller may read (for an admin's view of another user).
   */
  async list(userId: string, currentSessionId?: string, policy: Record<string, unknown> = {}): Promise<SessionSummary[]> {
    const rows = await this.em.fork().find(
      Session,
      { $and: [policy, { user: userId, revokedAt: null, expiresAt: { $gt: new Date() } }] },
      { orderBy: { createdAt: 'desc' }, limit: 1000 },
    );
    return rows
      .filter((r) => this.sessions.isUsable({ revoked_at: r.revokedAt ?? null, expires_at: r.expiresAt, last_used_at: r.lastUsedAt }))
      .map((r) => ({
        id: r.id,
        createdAt: r.createdAt.toISOString(),
        lastUsedAt: r.lastUsedAt.toISOString(),
        ip: r.ip ?? null,
        userAgent: r.userAgent ?? null,
        amr: r.amr,
        current: r.id === currentSessionId,
      }));
  }

  /** One unrevoked session of `userId` as the policy engine sees a Session, or null. */
  async record(userId: string, sessionId: string): Promise<SessionRecord | null> {
    const s = await this.em.fork().findOne(Session, { id: sessionId, user: userId, revokedAt: null });
    return s && { id: s.id, userId, createdAt: s.createdAt, lastUsedAt: s.lastUsedAt, ip: s.ip ?? null, userAgent: s.userAgent ?? null, amr: s.amr };
  }

  /** Ends one of `userId`'s sessions; another user's (or an unknown) session is "not found". */
  async end(actorId: string, userId: string, sessionId: string): Promise<void> {
    const rows: { id: string }[] = await this.em.fork().execute('SELECT id FROM sessions WHERE id = ? AND user_id = ? AND revoked_at IS NULL', [sessionId, userId]);
    if (!rows.length) throw new DomainError('notFound', 'No such session');
    await this.sessions.revoke([sessionId], actorId === userId ? 'logout' : 'ended_by_admin');
    await this.audit.record({ type: 'auth.logout', outcome: 'success', actorId, targetType: 'Session', targetId: sessionId, details: { userId } });
  }
}
