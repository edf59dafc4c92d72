import { MikroORM } from '@mikro-orm/core';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Housekeeping } from './housekeeping';
import { ormOptions } from './orm-options';

// Held while migrating so that instances starting together apply each migration once.
const MIGRATION_LOCK = 0x62617374; // "bast"

@Injectable()
export class MigrateOnStart implements OnModuleInit {
  private readonly logger = new Logger('Database');

  constructor(
    private readonly orm: MikroORM,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.database.migrateOnStart) return;
    const connection = this.orm.em.getConnection();
    await connection.transactional(async (transaction) => {
      await connection.execute('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK], 'run', transaction);
      const applied = await this.orm.migrator.up({ transaction });
      if (applied.length) this.logger.log(`Applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}`);
    });
  }
}

@Module({
  imports: [
    MikroOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        if (!config.database.url) throw new Error('database URL was not resolved before start');
        return { ...ormOptions(config.database.url, { pool: { min: 0, max: config.database.poolMax } }), registerRequestContext: false };
      },
      driver: PostgreSqlDriver,
    }),
  ],
  providers: [MigrateOnStart, Housekeeping],
})
export class DatabaseModule {}
