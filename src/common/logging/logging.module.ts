import { Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { type DestinationStream, type Logger, pino } from 'pino';
import { AppConfig } from '../../config/app-config';
import { createRootLogger } from './root-logger';

/**
 * Where log lines go: stdout, written asynchronously in batches of 4 KiB or every 250 ms, whichever
 * comes first (a write call per line was a tenth of a cheap request's cost; pino flushes what is
 * left when the process exits); tests capture them instead.
 */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');
/** The process's pino logger (request lines are written with it: request-log.ts). */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

@Global()
@Module({
  providers: [
    { provide: LOG_DESTINATION, useFactory: (): DestinationStream => pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 250 }) },
    {
      provide: ROOT_LOGGER,
      inject: [AppConfig, LOG_DESTINATION],
      useFactory: (config: AppConfig, destination: DestinationStream) => createRootLogger(config.logLevel, destination),
    },
  ],
  exports: [ROOT_LOGGER],
})
class RootLoggerModule {}

/**
 * Structured JSON logs (pino) for Nest's Logger, on the root logger. pino-http's per-request
 * middleware is not mounted (no routes): request lines come from a Fastify hook.
 */
@Module({
  imports: [
    RootLoggerModule,
    LoggerModule.forRootAsync({
      inject: [ROOT_LOGGER],
      useFactory: (logger: Logger) => ({ pinoHttp: { logger, autoLogging: false }, forRoutes: [] }),
    }),
  ],
  exports: [RootLoggerModule],
})
export class LoggingModule {}
