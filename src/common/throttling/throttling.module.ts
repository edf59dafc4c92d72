import { type ExecutionContext, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { ThrottlerModule } from '@nestjs/throttler';
import { Counter } from 'prom-client';
import { AppConfig } from '../../config/app-config';
import { MetricsModule } from '../../metrics/metrics.module';
import { MetricsService } from '../../metrics/metrics.service';
import { RedisConnection, RedisModule } from '../../redis/redis.module';
import { AppThrottlerGuard } from './app-throttler.guard';
import { ResilientThrottlerStorage } from './resilient-throttler-storage';

const sharedAcrossRoutes = (_context: ExecutionContext, tracker: string, name: string): string => createHash('sha256').update(`${name}-${tracker}`).digest('hex');

@Injectable()
class ThrottlerStorageProvider implements OnApplicationShutdown {
  readonly storage: ResilientThrottlerStorage;

  constructor(@Inject(AppConfig) config: AppConfig, redis: RedisConnection, metrics: MetricsService) {
    const fallbacks = new Counter({
      name: 'bastion_rate_limit_fallback_total',
      help: 'Rate-limit decisions taken on local counters because Redis was unreachable',
      registers: [metrics.registry],
    });
    this.storage = new ResilientThrottlerStorage(redis.client, config.redis.keyPrefix, fallbacks);
  }

  onApplicationShutdown(): void {
    this.storage.shutdown();
  }
}

@Module({ imports: [RedisModule, MetricsModule], providers: [ThrottlerStorageProvider], exports: [ThrottlerStorageProvider] })
class ThrottlerStorageModule {}

@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [ThrottlerStorageModule],
      inject: [AppConfig, ThrottlerStorageProvider],
      useFactory: (config: AppConfig, provider: ThrottlerStorageProvider) => ({
        throttlers: [
          { name: 'default', ttl: config.throttle.ttlSeconds * 1000, limit: config.throttle.limit },
          // One budget per client IP across every credential route (the library keys each route
          // apart by default, which would give an attacker THROTTLE_AUTH_LIMIT per route).
          { name: 'auth', ttl: config.throttle.ttlSeconds * 1000, limit: config.throttle.authLimit, generateKey: sharedAcrossRoutes },
        ],
        storage: provider.storage,
      }),
    }),
  ],
  providers: [AppThrottlerGuard],
  exports: [AppThrottlerGuard, ThrottlerModule],
})
export class ThrottlingModule {}
