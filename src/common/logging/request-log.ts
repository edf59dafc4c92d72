import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

/** Probes and scrapes arrive every few seconds from the platform: their successes would be noise. */
const QUIET_ROUTES = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * One line per request, written when the response has gone out: a Fastify hook that logs one
 * object, instead of pino-http's middleware (two child loggers, listeners and an async context
 * per request). Errors themselves are logged, with their stack, by the problem filter.
 */
export function attachRequestLog(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    const quiet = status < 400 && QUIET_ROUTES.has(request.routeOptions.url ?? '');
    if (!quiet && logger.isLevelEnabled(level)) {
      logger[level]({ requestId: request.id, req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
    }
    done();
  });
}
