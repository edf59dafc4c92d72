import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { NestFactory } from '@nestjs/core';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../../src/app.module';
import { configureApp, createFastifyAdapter } from '../../src/app.setup';
import { loadConfig } from '../../src/config/app-config';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { testEnv } from '../support/test-app';

jest.setTimeout(120_000);

/** Boots the app the way `npm start` does when DATABASE_URL is unset. */
async function bootOnEmbedded(dataDir: string, log: string[]) {
  const db = await startEmbeddedPostgres(dataDir, (l) => log.push(l));
  const config = loadConfig(testEnv('', { DATABASE_URL: undefined, DATA_DIR: dataDir, MIGRATE_ON_START: 'true', REDIS_URL: undefined }));
  config.database.url = db.url;
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), createFastifyAdapter(config), { logger: false });
  await configureApp(app, config);
  await app.init();
  return { db, app };
}

describe('Embedded PostgreSQL (DATABASE_URL unset)', () => {
  const base = mkdtempSync(join(tmpdir(), 'bastion-embedded-'));
  const dataDir = join(base, 'data');
  let running: EmbeddedPostgres | undefined;
  let lastClusterDir = '';

  afterAll(async () => {
    await running?.stop();
    rmSync(base, { recursive: true, force: true });
  });

  it('creates a cluster, migrates it and passes /health/ready', async () => {
    const log: string[] = [];
    const { db, app } = await bootOnEmbedded(dataDir, log);
    try {
      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json().info.database.status).toBe('up');
      expect(log.join('\n')).toMatch(/Embedded PostgreSQL listening on 127\.0\.0\.1:\d+, data in /);
      expect(db.url).toMatch(/^postgres:\/\/bastion:[^@]+@127\.0\.0\.1:\d+\/bastion$/);
    } finally {
      await app.close();
      await db.stop();
    }
  });

  it('reuses the cluster on the next start and keeps its data', async () => {
    const log: string[] = [];
    const db = await startEmbeddedPostgres(dataDir, (l) => log.push(l));
    running = db;
    expect(log.join('\n')).not.toContain('created a new cluster');
    const { Client } = await import('pg');
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const migrations = await client.query('SELECT count(*)::int AS n FROM mikro_orm_migrations');
    await client.end();
    expect(migrations.rows[0].n).toBeGreaterThan(0);
  });

  it('recovers from a postmaster left running by a crashed process', async () => {
    // `running` is still up, as if the Node process that started it had been killed.
    const pid = Number(readFileSync(join(running!.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const log: string[] = [];
    const db = await startEmbeddedPostgres(dataDir, (l) => log.push(l));
    expect(log.join('\n')).toContain(`stopping a postmaster (pid ${pid})`);
    lastClusterDir = db.dataDir;
    await db.stop();
    running = undefined;
  });

  it('removes a stale postmaster.pid whose process is gone', async () => {
    const clusterDir = running?.dataDir ?? lastClusterDir;
    const pidFile = join(clusterDir, 'postmaster.pid');
    writeFileSync(pidFile, `999999\n${clusterDir}\n`);
    const log: string[] = [];
    const db = await startEmbeddedPostgres(dataDir, (l) => log.push(l));
    expect(log.join('\n')).toContain('removing a stale postmaster.pid');
    await db.stop();
    expect(existsSync(pidFile)).toBe(false);
  });

  it('keeps data where the postgres user can reach it (as root: falls back when the checkout is closed to it)', async () => {
    const asRoot = process.getuid?.() === 0;
    const closed = mkdtempSync(join(tmpdir(), 'bastion-closed-'));
    chmodSync(closed, 0o700);
    const log: string[] = [];
    const db = await startEmbeddedPostgres(join(closed, '.data'), (l) => log.push(l));
    try {
      if (asRoot) {
        expect(log.join('\n')).toMatch(/the postgres user cannot enter .*; keeping its data in \/var\/tmp\/bastion-/);
        expect(db.dataDir.startsWith('/var/tmp/bastion-')).toBe(true);
      } else {
        expect(db.dataDir).toBe(join(closed, '.data', 'postgres'));
      }
    } finally {
      await db.stop();
      if (asRoot) rmSync(db.dataDir, { recursive: true, force: true });
      rmSync(closed, { recursive: true, force: true });
    }
  });
});
