'use strict';
// The yardstick of `npm run bench`: a bare NestJS + Fastify app answering GET /health/live with
// {status:'ok'} — the framework Bastion is built on, with nothing of Bastion. Plain JS (no
// decorators) so it needs no build; started by the bench as a child process like the server.
require('reflect-metadata');
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');

class HealthController {
  live() {
    return { status: 'ok' };
  }
}
Controller('health')(HealthController);
Get('live')(HealthController.prototype, 'live', Object.getOwnPropertyDescriptor(HealthController.prototype, 'live'));

class BareModule {}
Module({ controllers: [HealthController] })(BareModule);

async function main() {
  const app = await NestFactory.create(BareModule, new FastifyAdapter(), { logger: false });
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
}

main().catch((err) => {
  process.stderr.write(`bare app failed: ${err.stack}\n`);
  process.exit(1);
});
