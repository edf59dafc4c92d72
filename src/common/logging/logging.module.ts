import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppConfig } from '../../config/app-config';
import { redactSecrets, redactUrl } from './redact';

type RawRequest = IncomingMessage & { id?: unknown };

/** Structured JSON logs (pino) with the request id; secrets redacted at any depth. */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
          level: config.logLevel,
          genReqId: (req: IncomingMessage) => String((req as RawRequest).id ?? 'unknown'),
          customProps: (req: IncomingMessage) => ({ requestId: (req as RawRequest).id }),
          autoLogging: { ignore: (req: IncomingMessage) => req.url === '/health/live' || req.url === '/metrics' },
          customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
            err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
          serializers: {
            req: (req: RawRequest & { raw?: RawRequest; remoteAddress?: string }) => ({
              id: req.id,
              method: req.method,
              url: redactUrl(req.url ?? ''),
              remoteAddress: req.remoteAddress,
            }),
            res: (res: { raw?: ServerResponse; statusCode?: number | null }) => ({ statusCode: res.raw?.statusCode ?? res.statusCode }),
          },
          redact: {
            paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', 'req.headers["x-csrf-token"]'],
            censor: '[redacted]',
          },
          formatters: { log: (object: Record<string, unknown>) => redactSecrets(object) },
        },
      }),
    }),
  ],
})
export class LoggingModule {}
