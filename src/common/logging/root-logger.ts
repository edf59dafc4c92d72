import type { FastifyReply, FastifyRequest } from 'fastify';
import { type DestinationStream, type Logger, pino, stdSerializers } from 'pino';
import { REDACT_PATHS, REDACTED, redactSecrets, redactUrl } from './redact';

/**
 * The one pino logger of the process. Secrets are removed by pino's compiled `redact` paths on
 * every log object (a few property reads), never by walking every object; the two kinds of value
 * that can hide a secret deeper — URLs (query strings) and errors (driver errors carry their bound
 * parameters) — have serializers that redact them, once, when they are logged.
 */
export function createRootLogger(level: string, destination: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      serializers: {
        req: (request: FastifyRequest) => ({
          id: request.id,
          method: request.method,
          url: redactUrl(request.url ?? ''),
          remoteAddress: request.socket?.remoteAddress,
        }),
        res: (reply: FastifyReply) => ({ statusCode: reply.statusCode }),
        err: (err: unknown) => redactSecrets(stdSerializers.err(err as Error)),
      },
    },
    destination,
  );
}
