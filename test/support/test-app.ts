import type { ModuleMetadata } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import type { DestinationStream } from 'pino';
import { AppModule } from '../../src/app.module';
import { LOG_DESTINATION } from '../../src/common/logging/logging.module';
import { configureApp, createFastifyAdapter } from '../../src/app.setup';
import { type AppConfig, loadConfig } from '../../src/config/app-config';
import { generateSigningKeyPem } from '../../src/config/development-secrets';
import { createTestDatabase, type TestDatabase } from './database';

let signingKey: string | undefined;
// One MFA key per worker too: Passport strategies are registered on the process-wide passport
// object, so a second app in the same process must be able to read the first one's secrets.
const mfaKey = randomBytes(32).toString('base64');
const oauthStateSecret = randomBytes(32).toString('base64');
const oidcCookieKey = randomBytes(32).toString('base64url');
/** One RSA key per test worker: generating one costs ~100 ms. */
export function testSigningKey(): string {
  signingKey ??= generateSigningKeyPem();
  return signingKey;
}

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  database: TestDatabase;
  /** Base URL when started with `listen: true`. */
  url?: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string | undefined>;
  /** Share a database with another instance (two-instance tests). */
  database?: TestDatabase;
  /** Extra modules (test-only routes); never part of the product. */
  imports?: ModuleMetadata['imports'];
  listen?: boolean;
  /** Where the app's log lines go (with `env.LOG_LEVEL`), for tests that read them. */
  logDestination?: DestinationStream;
}

export function testEnv(databaseUrl: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    APP_URL: 'http://localhost:3000',
    DATABASE_URL: databaseUrl,
    MIGRATE_ON_START: 'false',
    REDIS_URL: process.env.REDIS_URL,
    REDIS_KEY_PREFIX: `bastion-test:${randomBytes(4).toString('hex')}:`,
    JWT_PRIVATE_KEY: testSigningKey(),
    MFA_ENCRYPTION_KEY: mfaKey,
    OAUTH_STATE_SECRET: oauthStateSecret,
    OIDC_COOKIE_SECRET: oidcCookieKey,
    ARGON2_MEMORY_KIB: '8192',
    ARGON2_ITERATIONS: '1',
    THROTTLE_LIMIT: '100000',
    THROTTLE_AUTH_LIMIT: '100000',
    ...extra,
  };
}

/** Boots the real app (AppModule + configureApp, as main.ts does) on a fresh database. */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const ownsDatabase = !options.database;
  const config = loadConfig(testEnv(database.url, options.env));
  const builder = Test.createTestingModule({ imports: [AppModule.register(config), ...(options.imports ?? [])] });
  if (options.logDestination) builder.overrideProvider(LOG_DESTINATION).useValue(options.logDestination);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(config), { bufferLogs: true });
  await configureApp(app, config);
  let url: string | undefined;
  if (options.listen) {
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    url = url.replace('[::1]', '127.0.0.1');
  } else {
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  }
  return {
    app,
    config,
    database,
    url,
    close: async () => {
      await app.close();
      if (ownsDatabase) await database.drop();
    },
  };
}
