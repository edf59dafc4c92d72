import { SkipThrottle } from '@nestjs/throttler';
import { MikroORM } from '@mikro-orm/core';
import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { Public } from '../common/decorators/public.decorator';
import { RedisConnection } from '../redis/redis.module';

@ApiTags('operations')
// Probes and scrapes are not rate limited: a liveness check must not wait on Redis.
@SkipThrottle()
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly orm: MikroORM,
    private readonly redis: RedisConnection,
  ) {}

  @Get('live')
  @ApiOkResponse({ description: 'The process is up' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  @ApiOkResponse({ description: 'PostgreSQL (and Redis when configured) answer' })
  @ApiServiceUnavailableResponse({ description: 'A backing service does not answer' })
  ready() {
    const checks = [() => this.check('database', () => this.pingDatabase())];
    if (this.redis.client) checks.push(() => this.check('redis', () => this.redis.ping()));
    return this.health.check(checks);
  }

  private async pingDatabase(): Promise<void> {
    await Promise.race([
      this.orm.em.getConnection().execute('SELECT 1'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('database ping timed out')), 1500).unref()),
    ]);
  }

  private async check(key: string, ping: () => Promise<void>): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    try {
      await ping();
      return indicator.up();
    } catch {
      return indicator.down({ message: `${key} is not answering` });
    }
  }
}
