import { type DynamicModule, Module } from '@nestjs/common';
import { AuditQueryModule } from './audit/audit-query.module';
import { AuthModule } from './auth/auth.module';
import { ChangeFeedModule } from './database/change-feed/change-feed.module';
import { LoggingModule } from './common/logging/logging.module';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { DepartmentsModule } from './departments/departments.module';
import { DocumentsModule } from './documents/documents.module';
import { GuardOrderModule } from './guard-order.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { PagesModule } from './pages/pages.module';
import { OidcModule } from './oidc/oidc.module';
import { PoliciesModule } from './policies/policies.module';
import { UsersModule } from './users/users.module';

/**
 * Composition root: infrastructure (config, logging, database with its change feed: the only
 * global modules), the global guards in their order, then the feature modules, each importing
 * what it uses.
 */
@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule,
        DatabaseModule,
        ChangeFeedModule,
        GuardOrderModule,
        MetricsModule,
        HealthModule,
        AuditQueryModule,
        AuthModule,
        PoliciesModule,
        UsersModule,
        DepartmentsModule,
        DocumentsModule,
        PagesModule,
        OidcModule,
      ],
    };
  }
}
