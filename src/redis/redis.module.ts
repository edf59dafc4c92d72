import { Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';

/**
 * The Redis connection, when REDIS_URL is set. Redis only ever holds rate-limit counters, so the
 * client never queues commands while disconnected: callers fail fast and fall back.
 */
@Injectable()
export class RedisConnection implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  readonly client: Redis | null;

  constructor(@Inject(AppConfig) config: AppConfig) {
    this.client = config.redis.url
      ? new Redis(config.redis.url, {
          enableOfflineQueue: false,
          enableAutoPipelining: true,
          maxRetriesPerRequest: 1,
          connectTimeout: 2000,
          lazyConnect: false,
          retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
        })
      : null;
    let lastError = '';
    this.client?.on('error', (err: Error) => {
      if (err.message !== lastError) this.logger.warn(`Redis unavailable: ${err.message}`);
      lastError = err.message;
    });
    this.client?.on('ready', () => {
      if (lastError) this.logger.log('Redis connection restored');
      lastError = '';
    });
  }

  async ping(timeoutMs = 1000): Promise<void> {
    if (!this.client) return;
    await Promise.race([
      this.client.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('Redis ping timed out')), timeoutMs).unref()),
    ]);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.client && this.client.status !== 'end') await this.client.quit().catch(() => this.client?.disconnect());
  }
}

@Module({ providers: [RedisConnection], exports: [RedisConnection] })
export class RedisModule {}
