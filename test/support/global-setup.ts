import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { databaseUrl, withAdminClient } from './database';

/**
 * Creates this run's template database once and migrates it with the MikroORM CLI (as
 * `npm run migrate` does). The CLI runs in a child process: MikroORM initialised in Jest's global
 * setup corrupts the metadata that the test files' own instances build (mikro-orm#3783).
 */
export default async function globalSetup(): Promise<void> {
  const name = `bastion_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await withAdminClient(async (c) => {
    // Leftovers of earlier runs that were killed before their teardown.
    const stale = await c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'bastion\\_test\\_%'`);
    for (const { datname } of stale.rows) {
      const age = Date.now() - parseInt(datname.split('_')[2], 36);
      if (age > 3 * 3600_000) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
    await c.query(`CREATE DATABASE "${name}"`);
  });
  const root = join(__dirname, '..', '..');
  execFileSync(join(root, 'node_modules', '.bin', 'mikro-orm'), ['migration:up'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl(name),
      MIKRO_ORM_CLI_CONFIG: './src/database/mikro-orm.config.ts',
      MIKRO_ORM_CLI_USE_TS_NODE: 'true',
      TS_NODE_TRANSPILE_ONLY: 'true',
      NODE_ENV: 'test',
    },
  });
  process.env.BASTION_TEST_TEMPLATE = name;
}
