import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import type { ChangeEvent } from '../../database/change-feed/change-event';
import { ChangeFeed, type ChangeListener } from '../../database/change-feed/change-feed.service';

// Access tokens are refused for this long after their session's revocation (their maximum
// remaining lifetime, plus clock skew between instances).
const SKEW_MS = 60_000;

/**
 * Revoked session ids of this instance, kept current by the change feed. Bounded: an entry is
 * dropped once every access token of that session has expired anyway. While the feed is not live
 * the answer comes from the database, never from a cache that may have missed a revocation.
 */
@Injectable()
export class RevocationSet implements ChangeListener, OnModuleInit {
  private readonly revoked = new Map<string, number>();
  private lastSweep = 0;

  constructor(
    private readonly em: EntityManager,
    private readonly feed: ChangeFeed,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.feed.register(this);
  }

  private get keepMs(): number {
    return this.config.jwt.accessTokenTtl * 1000 + SKEW_MS;
  }

  add(sessionIds: string[], at = Date.now()): void {
    for (const id of sessionIds) this.revoked.set(id, at + this.keepMs);
    this.sweep(at);
  }

  apply(event: ChangeEvent): void {
    if (event.type === 'sessions.revoked') this.add(event.sessionIds);
  }

  async resync(): Promise<void> {
    const rows: { id: string; revoked_at: Date }[] = await this.em
      .fork()
      .execute('SELECT id, revoked_at FROM sessions WHERE revoked_at > now() - make_interval(secs => ?)', [this.keepMs / 1000]);
    // Merge, never replace: a revocation applied while this read ran (a notification, or this
    // instance's own) committed after its snapshot and must survive. Revocations are never
    // undone, and sweep() drops expired entries.
    for (const row of rows) {
      const until = new Date(row.revoked_at).getTime() + this.keepMs;
      if ((this.revoked.get(row.id) ?? 0) < until) this.revoked.set(row.id, until);
    }
  }

  /** Synchronous answer when the feed is live; `undefined` means "ask the database". */
  isRevokedCached(sessionId: string): boolean | undefined {
    if (!this.feed.live) return undefined;
    const until = this.revoked.get(sessionId);
    return until !== undefined && until > Date.now();
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    const cached = this.isRevokedCached(sessionId);
    if (cached !== undefined) return cached;
    const rows: { revoked_at: Date | null }[] = await this.em.fork().execute('SELECT revoked_at FROM sessions WHERE id = ?', [sessionId]);
    return !rows.length || rows[0].revoked_at !== null;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [id, until] of this.revoked) if (until <= now) this.revoked.delete(id);
  }
}
