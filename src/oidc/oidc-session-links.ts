import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { ChangeEvent } from '../database/change-feed/change-event';
import { ChangeFeed, type ChangeListener } from '../database/change-feed/change-feed.service';

/**
 * Each OIDC grant remembers the Bastion session it was given in. Ending that session (sign-out,
 * `/account`, an admin, a disabled account) deletes the grant and every code and token issued
 * under it; the check at use (`grantIsLive`) covers an event this instance never received.
 */
@Injectable()
export class OidcSessionLinks implements ChangeListener, OnModuleInit {
  private readonly logger = new Logger('Oidc');

  constructor(
    private readonly em: EntityManager,
    private readonly feed: ChangeFeed,
  ) {}

  onModuleInit(): void {
    this.feed.register(this);
  }

  async link(grantId: string, sessionId: string): Promise<void> {
    await this.em.fork().execute(`UPDATE oidc_models SET session_id = ? WHERE model = 'Grant' AND id = ?`, [sessionId, grantId]);
  }

  /** False once the grant's Bastion session is revoked or expired (client_credentials grants have none). */
  async grantIsLive(grantId: string): Promise<boolean> {
    const rows: { dead: boolean }[] = await this.em.fork().execute(
      `SELECT (s.revoked_at IS NOT NULL OR s.expires_at <= now()) AS dead
         FROM oidc_models g JOIN sessions s ON s.id = g.session_id WHERE g.model = 'Grant' AND g.id = ?`,
      [grantId],
    );
    return !rows.some((r) => r.dead);
  }

  apply(event: ChangeEvent): void {
    if (event.type === 'sessions.revoked') void this.endGrantsOf(event.sessionIds);
  }

  /** Nothing cached here: grants are checked against the sessions table at use. */
  async resync(): Promise<void> {}

  async endGrantsOf(sessionIds: string[]): Promise<void> {
    try {
      await this.em.fork().execute(
        `WITH grants AS (DELETE FROM oidc_models WHERE model = 'Grant' AND session_id = ANY(?::uuid[]) RETURNING id)
         DELETE FROM oidc_models WHERE grant_id IN (SELECT id FROM grants)`,
        [`{${sessionIds.join(',')}}`],
      );
    } catch (err) {
      this.logger.warn(`Could not end the OIDC grants of revoked sessions: ${(err as Error).message}`);
    }
  }
}
