import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { join } from 'node:path';
import { ENTITIES } from './entities';

// Works from src/database (ts-jest, CLI) and from dist/src/database (production build):
// migrations are compiled next to the sources, two levels up.
const MIGRATIONS_DIR = join(__dirname, '..', '..', 'migrations');

/** The one MikroORM configuration used by the app, the CLI and the tests. */
export function ormOptions(url: string, overrides: Partial<Options> = {}): Options {
  return defineConfig({
    clientUrl: url,
    entities: ENTITIES,
    extensions: [Migrator],
    forceUtcTimezone: true,
    preferTs: __filename.endsWith('.ts'),
    pool: { min: 0, max: 10, idleTimeoutMillis: 30_000 },
    // Entities are created through a request-scoped fork only (see request-context.ts).
    allowGlobalContext: false,
    debug: false,
    // pg-boss (the mail queue) owns its own schema.
    schemaGenerator: { ignoreSchema: ['pgboss'] },
    migrations: {
      path: MIGRATIONS_DIR,
      pathTs: MIGRATIONS_DIR,
      glob: '!(*.d).{js,ts}',
      transactional: true,
      allOrNothing: true,
      snapshot: true,
      snapshotName: '.snapshot-bastion',
      tableName: 'mikro_orm_migrations',
      silent: true,
    },
    ...overrides,
  });
}
