import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { AuditService } from '../../audit/audit.service';
import { hashSecret } from '../../common/crypto/secrets';
import { AppConfig } from '../../config/app-config';
import { RedisConnection } from '../../redis/redis.module';

/**
 * Account lockout (ASVS 6.1.1/6.3.1): LOCKOUT_THRESHOLD consecutive failures lock the account for
 * LOCKOUT_DURATION, doubling on each further lock up to LOCKOUT_MAX_DURATION. A lock always ends
 * by itself; success (SignInService, in the statement that writes the session), a password reset
 * or an admin unlock end it at once. The state is one row update in PostgreSQL, so failures on
 * several instances count exactly.
 */
@Injectable()
export class LockoutService {
  private readonly unknownEmailFailures = new LRUCache<string, number>({ max: 100_000, ttl: 3600_000 });

  constructor(
    private readonly em: EntityManager,
    private readonly audit: AuditService,
    private readonly redis: RedisConnection,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  isLocked(user: { lockedUntil?: Date | null }, now = Date.now()): boolean {
    return !!user.lockedUntil && new Date(user.lockedUntil).getTime() > now;
  }

  /** The lock as PostgreSQL holds it now, which may be newer than an account read earlier in the request. */
  async isLockedNow(userId: string): Promise<boolean> {
    const rows: { locked: boolean | null }[] = await this.em.fork().execute('SELECT locked_until > now() AS locked FROM users WHERE id = ?', [userId]);
    return rows[0]?.locked === true;
  }

  /** Counts one failure atomically; locks (and audits the lock) when the threshold is reached. */
  async recordFailure(userId: string): Promise<void> {
    const { threshold, durationSeconds, maxDurationSeconds } = this.config.lockout;
    const rows: { locked_until: Date | null; lock_count: number; locked_now: boolean }[] = await this.em.fork().execute(
      `UPDATE users SET
         failed_login_count = CASE WHEN failed_login_count + 1 >= ? THEN 0 ELSE failed_login_count + 1 END,
         lock_count = CASE WHEN failed_login_count + 1 >= ? THEN lock_count + 1 ELSE lock_count END,
         locked_until = CASE WHEN failed_login_count + 1 >= ?
           THEN now() + make_interval(secs => LEAST(? * power(2, LEAST(lock_count, 30)), ?)) ELSE locked_until END
       WHERE id = ? AND (locked_until IS NULL OR locked_until <= now())
       RETURNING locked_until, lock_count, failed_login_count = 0 AS locked_now`,
      [threshold, threshold, threshold, durationSeconds, maxDurationSeconds, userId],
    );
    const row = rows[0];
    if (row?.locked_now) {
      await this.audit.record({
        type: 'auth.lockout',
        outcome: 'denied',
        targetType: 'User',
        targetId: userId,
        details: { lockedUntil: new Date(row.locked_until!).toISOString(), consecutiveLocks: row.lock_count },
      });
    }
  }

  /** Ends a lock at once and forgets past failures (password reset, admin unlock). */
  async unlock(userId: string, em: EntityManager = this.em.fork()): Promise<void> {
    await em.execute('UPDATE users SET failed_login_count = 0, lock_count = 0, locked_until = NULL WHERE id = ?', [userId]);
  }

  /**
   * Failures against emails that have no account are counted the same way, without creating rows
   * (in Redis when configured, else in memory), so stuffing attempts show up in the audit log.
   */
  async recordUnknownEmailFailure(email: string): Promise<void> {
    const key = `${this.config.redis.keyPrefix}login-unknown:${hashSecret(email)}`;
    let count: number;
    try {
      if (!this.redis.client) throw new Error('no redis');
      count = await this.redis.client.incr(key);
      if (count === 1) await this.redis.client.expire(key, this.config.lockout.maxDurationSeconds);
    } catch {
      count = (this.unknownEmailFailures.get(key) ?? 0) + 1;
      this.unknownEmailFailures.set(key, count);
    }
    if (count % this.config.lockout.threshold === 0) {
      await this.audit.record({
        type: 'auth.lockout',
        outcome: 'denied',
        targetType: 'Email',
        details: { email, reason: 'repeated failures for an email without an account', failures: count },
      });
    }
  }
}
