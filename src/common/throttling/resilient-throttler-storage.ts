import { Logger } from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { type ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import type Redis from 'ioredis';
import type { Counter } from 'prom-client';

/**
 * Rate-limit counters in Redis (shared by every instance) that fall back to this instance's memory
 * while Redis is unreachable: an outage degrades limits to per-instance, never to an error or a
 * hang (the Redis client does not queue commands while disconnected).
 */
export class ResilientThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger('RateLimit');
  private readonly local = new ThrottlerStorageService();
  private readonly shared?: ThrottlerStorageRedisService;
  private degraded = false;

  constructor(
    redis: Redis | null,
    private readonly keyPrefix: string,
    private readonly fallbacks: Counter<string>,
  ) {
    if (redis) this.shared = new ThrottlerStorageRedisService(redis);
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    const prefixed = `${this.keyPrefix}throttle:${key}`;
    if (this.shared) {
      try {
        const record = await this.shared.increment(prefixed, ttl, limit, blockDuration, throttlerName);
        if (this.degraded) this.logger.log('Redis is back: rate limits are shared again');
        this.degraded = false;
        return record;
      } catch (err) {
        if (!this.degraded) {
          this.logger.warn(`Redis unavailable (${(err as Error).message}): rate limits fall back to per-instance counters`);
        }
        this.degraded = true;
        this.fallbacks.inc();
      }
    }
    return this.local.increment(prefixed, ttl, limit, blockDuration, throttlerName);
  }

  shutdown(): void {
    this.local.onApplicationShutdown();
  }
}
