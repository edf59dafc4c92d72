import { SkipThrottle } from '@nestjs/throttler';
import { Controller, Get, Header, Headers, Inject } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import { AppConfig } from '../config/app-config';
import { Public } from '../common/decorators/public.decorator';
import { DomainError } from '../common/problem/domain-error';
import { safeEqual } from '../common/crypto/safe-equal';
import { MetricsService } from './metrics.service';

// Probes and scrapes are not rate limited: a liveness check must not wait on Redis.
@SkipThrottle()
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(@Headers('authorization') authorization?: string): Promise<string> {
    const token = this.config.metrics.token;
    if (token && !safeEqual(authorization ?? '', `Bearer ${token}`)) {
      throw new DomainError('unauthenticated', 'A valid metrics token is required', undefined, {
        'www-authenticate': 'Bearer realm="metrics"',
      });
    }
    return this.metrics.registry.metrics();
  }
}
