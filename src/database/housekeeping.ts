import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';

const EVERY_MS = 10 * 60_000;

// Short-lived, single-use rows are useless once expired; a day of grace keeps them for forensics.
const PURGES = [
  `DELETE FROM oauth_states WHERE expires_at < now()`,
  `DELETE FROM webauthn_challenges WHERE expires_at < now()`,
  `DELETE FROM oauth_exchange_codes WHERE expires_at < now() - interval '1 day'`,
  `DELETE FROM mfa_challenges WHERE expires_at < now() - interval '1 day'`,
  `DELETE FROM email_tokens WHERE expires_at < now() - interval '1 day'`,
  // oidc-provider's artifacts (codes, tokens, sessions, interactions) are useless once expired.
  `DELETE FROM oidc_models WHERE expires_at < now()`,
];

/** Removes expired one-time rows every 10 minutes (on whichever instance; the deletes are idempotent). */
@Injectable()
export class Housekeeping implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Housekeeping');
  private timer?: NodeJS.Timeout;

  constructor(private readonly em: EntityManager) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.run(), EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async run(): Promise<number> {
    let removed = 0;
    for (const sql of PURGES) {
      try {
        const result = await this.em.fork().getConnection().execute(sql, [], 'run');
        removed += (result as { affectedRows?: number }).affectedRows ?? 0;
      } catch (err) {
        this.logger.warn(`Housekeeping skipped a table: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    return removed;
  }
}
