import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import { type AuditRecord, AuditService } from '../../audit/audit.service';
import { INVALID_TOKEN_CHALLENGE } from '../authentication.guard';
import { safeEqual } from '../../common/crypto/safe-equal';
import { hashSecret, hmac, randomSecret } from '../../common/crypto/secrets';
import { requestMeta } from '../../common/http/request-meta';
import { DomainError } from '../../common/problem/domain-error';
import { AppConfig } from '../../config/app-config';
import { activeTotpFactor } from '../mfa/totp.service';
import { ChangeFeed } from '../../database/change-feed/change-feed.service';
import { AccessTokenService } from '../tokens/access-token.service';
import type { CookieSession, SignInMode, TokenPair } from './session-credentials';

export const REFRESH_GRACE_MS = 10_000;

interface SessionRow {
  id: string;
  user_id: string;
  amr: string[];
  auth_time: Date;
  expires_at: Date;
  last_used_at: Date;
  revoked_at: Date | null;
}

/** What must hold when a session is created (all checked in the statement that creates it). */
export interface StartConditions {
  /** Refuse while the account is locked out. */
  unlessLocked?: boolean;
  /** Refuse when the account has an active TOTP factor (the sign-in needs a second step first). */
  unlessSecondFactor?: boolean;
  /** The sign-in is complete: clear the consecutive-failure count and any expired lock. */
  resetFailures?: boolean;
  /** The security events of this sign-in, written only if the session is (their details get the `sessionId`). */
  audit?: AuditRecord[];
}

const invalidRefresh = () => new DomainError('unauthenticated', 'The refresh token is invalid, expired or revoked', undefined, INVALID_TOKEN_CHALLENGE);
const invalidCookie = () => new DomainError('unauthenticated', 'The session cookie is invalid, expired or revoked', undefined, INVALID_TOKEN_CHALLENGE);

/**
 * Sessions: creation on every sign-in, refresh-token rotation with a grace window and reuse
 * detection, cookie-secret rotation with the same grace and theft rules, and revocation that reaches every instance.
 */
@Injectable()
export class SessionService {
  constructor(
    private readonly em: EntityManager,
    private readonly tokens: AccessTokenService,
    private readonly feed: ChangeFeed,
    private readonly audit: AuditService,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  /**
   * A new session (new `sid`) for a successful sign-in, written in one statement together with
   * everything that must hold or happen with it (see StartConditions). Null when a condition did
   * not hold at that moment: nothing was written.
   */
  async start(userId: string, amr: string[], mode: 'bearer', conditions?: StartConditions): Promise<TokenPair | null>;
  async start(userId: string, amr: string[], mode: 'cookie', conditions?: StartConditions): Promise<CookieSession | null>;
  async start(userId: string, amr: string[], mode: SignInMode, conditions?: StartConditions): Promise<TokenPair | CookieSession | null>;
  async start(userId: string, amr: string[], mode: SignInMode, conditions: StartConditions = {}): Promise<TokenPair | CookieSession | null> {
    const meta = requestMeta.current();
    const now = new Date();
    const secret = randomSecret();
    // The account row decides: a deleted or disabled account never gets a session, whatever
    // raced with the sign-in (a lock or a second factor committed before this statement is seen).
    const notLocked = '(locked_until IS NULL OR locked_until <= now())';
    const guard = [`id = ?`, `deleted_at IS NULL`, `status <> 'disabled'`];
    if (conditions.unlessLocked) guard.push(notLocked);
    if (conditions.unlessSecondFactor) guard.push(`NOT ${activeTotpFactor('users.id')}`);
    const parts = [
      `account AS (SELECT id, (failed_login_count > 0 OR lock_count > 0 OR locked_until IS NOT NULL) AS dirty FROM users WHERE ${guard.join(' AND ')})`,
      `session AS (INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, auth_time, amr, ip, user_agent, cookie_secret_hash)
        SELECT gen_random_uuid(), account.id, ?, ?, ?, ?, ?::jsonb, ?, ?, ? FROM account RETURNING id)`,
    ];
    const params: unknown[] = [
      userId,
      now,
      now,
      new Date(now.getTime() + this.config.sessions.refreshTokenTtl * 1000),
      now,
      JSON.stringify(amr),
      meta.ip,
      meta.userAgent,
      mode === 'cookie' ? hashSecret(secret) : null,
    ];
    if (conditions.resetFailures) {
      // Only when there is something to clear (no write to users on the common path), and never
      // a lock that a failure elsewhere set after this statement's snapshot (re-checked on the row).
      parts.push(`reset AS (UPDATE users SET failed_login_count = 0, lock_count = 0, locked_until = NULL
        FROM account WHERE users.id = account.id AND account.dirty AND ${notLocked.replace(/locked_until/g, 'users.locked_until')})`);
    }
    if (mode === 'bearer') {
      parts.push(`refresh AS (INSERT INTO refresh_tokens (id, session_id, token_hash, created_at) SELECT gen_random_uuid(), session.id, ?, ? FROM session)`);
      params.push(hashSecret(secret), now);
    }
    (conditions.audit ?? []).forEach((record, i) => {
      const audit = this.audit.insertFrom('session', record, { sessionId: 'id' });
      parts.push(`audit${i} AS (${audit.sql})`);
      params.push(...audit.params);
    });
    const rows: { id: string }[] = await this.em.fork().execute(`WITH ${parts.join(',\n')} SELECT id FROM session`, params);
    if (!rows.length) return null;
    if (mode === 'cookie') return this.cookieSession(secret);
    return this.tokenPair(userId, rows[0].id, amr, Math.floor(now.getTime() / 1000), secret);
  }

  /**
   * Rotates a refresh token under a row lock. A token rotated less than 10 s ago mints a sibling
   * (two tabs refreshing at once); one rotated earlier is theft and revokes the whole session.
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const next = randomSecret();
    const em = this.em.fork();
    const outcome = await em.transactional(async (tx) => {
      const rows = await tx.execute(
        `SELECT t.id, t.rotated_at, s.id AS session_id, s.user_id, s.amr, s.auth_time, s.expires_at, s.last_used_at, s.revoked_at
           FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
          WHERE t.token_hash = ? FOR UPDATE OF t, s`,
        [hashSecret(refreshToken)],
      );
      if (!rows.length) return { kind: 'invalid' as const };
      const row = rows[0] as SessionRow & { rotated_at: Date | null; session_id: string };
      const session = { ...row, id: row.session_id };
      if (!this.isUsable(session)) return { kind: 'invalid' as const };
      if (row.rotated_at && Date.now() - new Date(row.rotated_at).getTime() > REFRESH_GRACE_MS) {
        await this.revokeWithin(tx, [session.id], 'refresh_reuse');
        return { kind: 'theft' as const, session };
      }
      if (!row.rotated_at) await tx.execute('UPDATE refresh_tokens SET rotated_at = now() WHERE id = ?', [row.id]);
      await tx.execute('INSERT INTO refresh_tokens (id, session_id, token_hash, parent_id) VALUES (gen_random_uuid(), ?, ?, ?)', [session.id, hashSecret(next), row.id]);
      await tx.execute('UPDATE sessions SET last_used_at = now() WHERE id = ?', [session.id]);
      return { kind: 'rotated' as const, session };
    });
    if (outcome.kind === 'invalid') throw invalidRefresh();
    if (outcome.kind === 'theft') {
      await this.afterTheft(outcome.session, 'a rotated refresh token was presented after the grace window; the session was revoked');
      throw invalidRefresh();
    }
    const s = outcome.session;
    return this.tokenPair(s.user_id, s.id, s.amr, Math.floor(new Date(s.auth_time).getTime() / 1000), next);
  }

  /**
   * Cookie mode refresh, with the rules of refresh tokens: the swap happens under the row lock and
   * only from the current secret (compare-and-swap). The successor is derived from the old secret
   * and a per-rotation salt, so a second tab presenting the old secret less than 10 s after the
   * rotation gets the same successor — both tabs end up holding one cookie — while nothing but a
   * hash is stored. The old secret presented after that is theft: the session is revoked.
   */
  async rotateCookie(secret: string, csrfToken: string | undefined): Promise<CookieSession> {
    const hash = hashSecret(secret);
    const outcome = await this.em.fork().transactional(async (tx) => {
      const rows: (SessionRow & { cookie_secret_hash: string; cookie_rotated_at: Date | null; cookie_rotation_salt: string | null })[] = await tx.execute(
        `SELECT id, user_id, expires_at, last_used_at, revoked_at, cookie_secret_hash, cookie_rotated_at, cookie_rotation_salt
           FROM sessions WHERE cookie_secret_hash = ? OR cookie_previous_hash = ? FOR UPDATE`,
        [hash, hash],
      );
      const row = rows[0];
      if (!row || !this.isUsable(row)) return { kind: 'invalid' as const };
      // A cookie-authenticated POST: same CSRF rule as every other unsafe request.
      if (!csrfToken || !safeEqual(csrfToken, this.csrfTokenFor(secret))) throw new DomainError('forbidden', 'A valid X-CSRF-Token header is required for this request');
      if (row.cookie_secret_hash === hash) {
        const salt = randomSecret();
        const next = hmac(secret, salt);
        await tx.execute(
          `UPDATE sessions SET cookie_secret_hash = ?, cookie_previous_hash = ?, cookie_rotation_salt = ?, cookie_rotated_at = now(), last_used_at = now()
            WHERE id = ? AND cookie_secret_hash = ?`,
          [hashSecret(next), hash, salt, row.id, hash],
        );
        await this.feed.publish(tx, { type: 'session.rotated', sessionId: row.id });
        return { kind: 'rotated' as const, session: row, next };
      }
      if (!row.cookie_rotated_at || !row.cookie_rotation_salt || Date.now() - new Date(row.cookie_rotated_at).getTime() > REFRESH_GRACE_MS) {
        await this.revokeWithin(tx, [row.id], 'cookie_reuse');
        return { kind: 'theft' as const, session: row };
      }
      // The sibling tab: the successor the first tab got, if it is still the current secret.
      const next = hmac(secret, row.cookie_rotation_salt);
      if (hashSecret(next) !== row.cookie_secret_hash) return { kind: 'invalid' as const };
      await tx.execute('UPDATE sessions SET last_used_at = now() WHERE id = ?', [row.id]);
      return { kind: 'sibling' as const, session: row, next };
    });
    if (outcome.kind === 'invalid') throw invalidCookie();
    if (outcome.kind === 'theft') {
      await this.afterTheft(outcome.session, 'a rotated session cookie was presented after the grace window; the session was revoked');
      throw invalidCookie();
    }
    if (outcome.kind === 'rotated') this.feed.applyLocally({ type: 'session.rotated', sessionId: outcome.session.id });
    return this.cookieSession(outcome.next);
  }

  /** Revokes sessions (only those still live); returns the ids that were revoked now. */
  async revoke(sessionIds: string[], reason: string): Promise<string[]> {
    if (!sessionIds.length) return [];
    const ids = await this.em.fork().transactional((tx) => this.revokeWithin(tx, sessionIds, reason));
    this.afterRevoke(ids);
    return ids;
  }

  async revokeAllOfUser(userId: string, reason: string, exceptSessionId?: string): Promise<string[]> {
    const ids = await this.em.fork().transactional(async (tx) => {
      const rows: { id: string }[] = await tx.execute(
        'SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND id <> ?',
        [userId, exceptSessionId ?? '00000000-0000-0000-0000-000000000000'],
      );
      return this.revokeWithin(tx, rows.map((r) => r.id), reason);
    });
    this.afterRevoke(ids);
    return ids;
  }

  csrfTokenFor(cookieSecret: string): string {
    return hmac(cookieSecret, 'bastion-csrf');
  }

  isUsable(session: Pick<SessionRow, 'revoked_at' | 'expires_at' | 'last_used_at'>, now = Date.now()): boolean {
    if (session.revoked_at) return false;
    if (new Date(session.expires_at).getTime() <= now) return false;
    return new Date(session.last_used_at).getTime() + this.config.sessions.idleTtl * 1000 > now;
  }

  private async revokeWithin(tx: EntityManager, sessionIds: string[], reason: string): Promise<string[]> {
    if (!sessionIds.length) return [];
    const rows: { id: string }[] = await tx.execute(
      `UPDATE sessions SET revoked_at = now(), revoked_reason = ? WHERE id = ANY(?::uuid[]) AND revoked_at IS NULL RETURNING id`,
      [reason, `{${sessionIds.join(',')}}`],
    );
    const ids = rows.map((r) => r.id);
    if (ids.length) await this.feed.publish(tx, { type: 'sessions.revoked', sessionIds: ids });
    return ids;
  }

  private async afterTheft(session: Pick<SessionRow, 'id' | 'user_id'>, reason: string): Promise<void> {
    this.afterRevoke([session.id]);
    await this.audit.record({ type: 'auth.refresh.reuse_detected', outcome: 'denied', actorId: session.user_id, targetType: 'Session', targetId: session.id, details: { reason } });
  }

  /** The NOTIFY reaches other instances on commit; this one applies it at once. */
  private afterRevoke(ids: string[]): void {
    if (ids.length) this.feed.applyLocally({ type: 'sessions.revoked', sessionIds: ids });
  }

  private tokenPair(userId: string, sessionId: string, amr: string[], authTime: number, refreshToken: string): TokenPair {
    const access = this.tokens.issue({ sub: userId, sid: sessionId, amr, authTime });
    return { accessToken: access.token, refreshToken, tokenType: 'Bearer', expiresIn: access.expiresIn };
  }

  private cookieSession(secret: string): CookieSession {
    return { cookieSecret: secret, csrfToken: this.csrfTokenFor(secret), expiresIn: this.config.sessions.idleTtl };
  }
}
