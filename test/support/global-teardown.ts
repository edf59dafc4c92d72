import { withAdminClient } from './database';

export default async function globalTeardown(): Promise<void> {
  const template = process.env.BASTION_TEST_TEMPLATE;
  if (!template) return;
  await withAdminClient(async (c) => {
    const dbs = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${template}%`]);
    for (const { datname } of dbs.rows) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  });
}
