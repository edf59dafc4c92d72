import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { hashSecret } from '../../common/crypto/secrets';
import { AppConfig } from '../../config/app-config';
import type { ChangeEvent } from '../../database/change-feed/change-event';
import { ChangeFeed, type ChangeListener } from '../../database/change-feed/change-feed.service';
import type { Credential } from '../principal/principal-resolver';
import { SessionService } from './session.service';

interface CachedCookie {
  sessionId: string;
  userId: string;
  amr: string[];
  authTime: number;
  expiresAt: number;
  lastUsedAt: number;
}

// Writing last_used_at on every cookie request would put the database on the hot path.
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Browser sessions (`__Host-sid`): the cookie's secret is looked up by its hash once, then served
 * from memory like a bearer token. A rotation or revocation on any instance evicts it.
 */
@Injectable()
export class CookieSessions implements ChangeListener, OnModuleInit {
  private readonly byHash = new LRUCache<string, CachedCookie>({
    max: 50_000,
    dispose: (value, hash) => {
      if (this.hashBySession.get(value.sessionId) === hash) this.hashBySession.delete(value.sessionId);
    },
  });
  private readonly hashBySession = new Map<string, string>();
  // Bumped by every eviction: a lookup that raced with a rotation or revocation is not cached.
  private generation = 0;

  constructor(
    private readonly em: EntityManager,
    private readonly feed: ChangeFeed,
    private readonly sessions: SessionService,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.feed.register(this);
  }

  apply(event: ChangeEvent): void {
    if (event.type === 'session.rotated') this.evict(event.sessionId);
    if (event.type === 'sessions.revoked') event.sessionIds.forEach((id) => this.evict(id));
  }

  async resync(): Promise<void> {
    this.generation++;
    this.byHash.clear();
  }

  /** The credential behind a cookie secret, or null when it is unknown, revoked or expired. */
  async authenticate(secret: string): Promise<(Credential & { csrfToken: string }) | null> {
    const hash = hashSecret(secret);
    let entry = this.feed.live ? this.byHash.get(hash) : undefined;
    if (!entry) {
      const generation = this.generation;
      entry = await this.load(hash);
      if (!entry) return null;
      if (this.feed.live && generation === this.generation) {
        this.byHash.set(hash, entry);
        this.hashBySession.set(entry.sessionId, hash);
      }
    }
    const now = Date.now();
    const idleEnd = entry.lastUsedAt + this.config.sessions.idleTtl * 1000;
    if (entry.expiresAt <= now || idleEnd <= now) return null;
    if (now - entry.lastUsedAt > TOUCH_INTERVAL_MS) this.touch(entry, now);
    return {
      userId: entry.userId,
      sessionId: entry.sessionId,
      amr: entry.amr,
      authTime: entry.authTime,
      expiresAt: new Date(Math.min(entry.expiresAt, idleEnd)),
      via: 'cookie',
      csrfToken: this.sessions.csrfTokenFor(secret),
    };
  }

  private evict(sessionId: string): void {
    this.generation++;
    const hash = this.hashBySession.get(sessionId);
    if (hash) this.byHash.delete(hash);
  }

  private touch(entry: CachedCookie, now: number): void {
    entry.lastUsedAt = now;
    void this.em
      .fork()
      .execute('UPDATE sessions SET last_used_at = now() WHERE id = ?', [entry.sessionId])
      .catch(() => undefined);
  }

  private async load(hash: string): Promise<CachedCookie | undefined> {
    const rows: { id: string; user_id: string; amr: string[]; auth_time: Date; expires_at: Date; last_used_at: Date; revoked_at: Date | null }[] =
      await this.em.fork().execute('SELECT id, user_id, amr, auth_time, expires_at, last_used_at, revoked_at FROM sessions WHERE cookie_secret_hash = ?', [hash]);
    const row = rows[0];
    if (!row || !this.sessions.isUsable(row)) return undefined;
    return {
      sessionId: row.id,
      userId: row.user_id,
      amr: row.amr,
      authTime: Math.floor(new Date(row.auth_time).getTime() / 1000),
      expiresAt: new Date(row.expires_at).getTime(),
      lastUsedAt: new Date(row.last_used_at).getTime(),
    };
  }
}
