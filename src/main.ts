// First: sizes the thread pool before anything uses it.
import './config/thread-pool';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { configureApp, createFastifyAdapter, installShutdownHooks } from './app.setup';
import { ConfigError, loadConfigFromProcessEnv } from './config/app-config';
import { ensureDevelopmentSecrets } from './config/development-secrets';
import { startEmbeddedPostgres } from './database/embedded-postgres';

const say = (line: string) => process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), msg: line })}\n`);

async function bootstrap(): Promise<void> {
  const config = ensureDevelopmentSecrets(loadConfigFromProcessEnv(), say);
  const embedded = config.database.url ? undefined : await startEmbeddedPostgres(config.dataDir, say);
  if (embedded) config.database.url = embedded.url;
  try {
    const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), createFastifyAdapter(config), {
      bufferLogs: true,
    });
    await configureApp(app, config);
    installShutdownHooks(app, config, async () => embedded?.stop());
    await app.listen(config.port, '0.0.0.0');
    say(`Bastion listening on port ${config.port}`);
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
}

bootstrap().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`Bastion failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  }
  process.exit(1);
});
