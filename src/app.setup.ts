import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import { type EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Logger as NestLogger } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from 'nestjs-pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { SESSION_COOKIE } from './auth/sessions/session-credentials';
import { Eta } from 'eta';
import { AppValidationPipe } from './common/http/validation.pipe';
import { setupOpenApi } from './common/http/openapi';
import { requestIdOf } from './common/http/request-id';
import { securityHeaders } from './common/http/security-headers';
import { ROOT_LOGGER } from './common/logging/logging.module';
import { attachRequestLog } from './common/logging/request-log';
import { ProblemDetailsFilter } from './common/problem/problem-details.filter';
import { problem, PROBLEM_CONTENT_TYPE } from './common/problem/problem-details';
import { sendProblem } from './common/problem/problem-response';
import type { AppConfig } from './config/app-config';
import { registerRequestContext } from './database/request-context';
import { MetricsService } from './metrics/metrics.service';
import { ASSETS_DIR, PICO_DIR, VIEWS_DIR } from './pages/page-paths';
import { registerOidcRoutes } from './oidc/oidc-routes';

export const BODY_LIMIT_BYTES = 1024 * 1024;

const closingApps = new WeakSet<NestFastifyApplication>();

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'Request headers are too large'],
  HPE_URI_TOO_LONG: [414, 'URI Too Long', 'The HTTP request is malformed'],
  // HTTP_HEADERS_TIMEOUT / HTTP_REQUEST_TIMEOUT ran out: a slow (or slowloris) client.
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request did not arrive in time'],
};

/** Errors Node's HTTP parser raises before Fastify sees a request (bad bytes, huge headers, too slow). */
function onClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, detail] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'Bad Request', 'The HTTP request is malformed'];
  const body = JSON.stringify(problem(status, detail));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${randomUUID()}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Errors Fastify's router raises before any hook runs (a path that is not valid percent-encoded
 * UTF-8, a path parameter over `maxParamLength`): its default answer is plain JSON without a
 * request id that echoes the path.
 */
function onFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode === 414 ? 414 : 400;
  reply.header('x-request-id', request.id);
  sendProblem(reply, { problem: problem(status, status === 414 ? 'A path segment is too long' : 'The request URL is malformed'), unexpected: false });
}

/**
 * Node answers an `Expect` other than 100-continue itself (an empty 417) unless someone listens
 * for it: answer the same status as a problem.
 */
function onUnmetExpectation(request: IncomingMessage, response: ServerResponse): void {
  const body = JSON.stringify(problem(417, 'Only "Expect: 100-continue" is supported', { title: 'Expectation Failed' }));
  response.writeHead(417, { 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': Buffer.byteLength(body), 'x-request-id': requestIdOf(request), connection: 'close' });
  response.end(body);
}

function hostHeaderCount(rawHeaders: string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i].toLowerCase() === 'host') count += 1;
  return count;
}

function carriesCredentials(request: FastifyRequest): boolean {
  return request.headers.authorization !== undefined || (request.headers.cookie ?? '').includes(SESSION_COOKIE);
}

export function createFastifyAdapter(config: AppConfig): FastifyAdapter {
  return new FastifyAdapter({
    trustProxy: config.trustProxy,
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: false,
    genReqId: requestIdOf,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    clientErrorHandler: onClientError,
    frameworkErrors: onFrameworkError,
    // Node would answer a Host-less HTTP/1.1 request itself (an empty 400): configureApp refuses it as a problem.
    http: {
      requireHostHeader: false,
      headersTimeout: config.http.headersTimeoutSeconds * 1000,
      requestTimeout: config.http.requestTimeoutSeconds * 1000,
      // Node enforces both only when it sweeps its connections (every 30 s by default).
      connectionsCheckingInterval: Math.min(30_000, (config.http.headersTimeoutSeconds * 1000) / 2),
    },
    requestTimeout: config.http.requestTimeoutSeconds * 1000,
    routerOptions: { maxParamLength: 200 },
    logger: false,
  });
}

/**
 * Everything HTTP about the app, in one place: main.ts and every e2e test call it, so what is
 * tested is what runs.
 */
export async function configureApp(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  app.useLogger(app.get(Logger));
  app.flushLogs();
  const fastify = app.getHttpAdapter().getInstance();
  const headers = securityHeaders();

  fastify.addHook('onRequest', (request, reply, done) => {
    reply.headers(headers);
    reply.header('x-request-id', request.id);
    // While shutting down, a keep-alive connection is closed after the response it carries, so
    // the server can finish closing once in-flight requests are done.
    if (closingApps.has(app)) reply.header('connection', 'close');
    // Token bodies and anything answered to a credential must not stay in a browser or proxy cache.
    if (request.url.startsWith('/api/') || carriesCredentials(request)) reply.header('cache-control', 'no-store');
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      return sendProblem(reply, { problem: problem(400, 'HTTP/1.1 requests need a Host header'), unexpected: false });
    }
    // RFC 9112 §3.2: more than one Host is a 400. Node keeps the first and drops the others, so
    // a proxy that routed on the second would disagree with us about the target.
    if (hostHeaderCount(request.raw.rawHeaders) > 1) {
      return sendProblem(reply, { problem: problem(400, 'A request must carry exactly one Host header'), unexpected: false });
    }
    done();
  });
  fastify.server.on('checkExpectation', onUnmetExpectation);
  app.get(MetricsService).attach(fastify);
  attachRequestLog(fastify, app.get(ROOT_LOGGER));
  registerRequestContext(app);

  await app.register(fastifyCookie);
  // The hosted pages: eta templates (escaped output by default), cached outside development;
  // their stylesheets and scripts under /assets (ours, and Pico's classless stylesheet).
  await app.register(fastifyView, { engine: { eta: new Eta() }, root: VIEWS_DIR, production: config.env !== 'development' });
  await app.register(fastifyStatic, { root: [ASSETS_DIR, PICO_DIR], prefix: '/assets/', index: false, maxAge: '1h'});
  if (config.cors.origins.length) {
    app.enableCors({
      origin: config.cors.origins,
      credentials: true,
      exposedHeaders: ['x-request-id', 'retry-after', 'www-authenticate'],
      allowedHeaders: ['authorization', 'content-type', 'x-csrf-token', 'x-request-id'],
    });
  }
  // OIDC provider routes: after helmet and cookies, so they carry the same headers and hooks.
  await registerOidcRoutes(app);
  app.useGlobalPipes(new AppValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter());
  setupOpenApi(app);
}

/**
 * Fastify's close returns once every response is sent — but a handler whose client hung up may
 * still be writing (an audit row, a session). Wait until no database connection is in use before
 * the pool is closed, so that work finishes instead of failing mid-way.
 */
async function waitForIdleDatabase(app: NestFastifyApplication, timeoutMs: number): Promise<void> {
  const orm = app.get<MikroORM>(MikroORM);
  const pool = (orm.em as EntityManager).getKnex().client.pool as { numUsed(): number; numPendingAcquires(): number } | undefined;
  const deadline = Date.now() + timeoutMs / 2;
  while (pool && pool.numUsed() + pool.numPendingAcquires() > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * SIGTERM/SIGINT: stop accepting, let in-flight requests finish, then close the database pool
 * and whatever `afterClose` owns (the embedded PostgreSQL), and exit 0. Nest's own shutdown hooks
 * are not used: they close the database before the HTTP server and re-raise the signal.
 */
export function installShutdownHooks(app: NestFastifyApplication, config: AppConfig, afterClose: () => Promise<void>): void {
  const logger = new NestLogger('Shutdown');
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    closingApps.add(app);
    logger.log(`${signal} received: finishing in-flight requests`);
    // Requests already past onRequest answer on their keep-alive connection: close those
    // connections as soon as they fall idle, or the server never finishes closing.
    const server = app.getHttpServer() as { closeIdleConnections?: () => void };
    const sweeper = setInterval(() => server.closeIdleConnections?.(), 50);
    sweeper.unref();
    const timer = setTimeout(() => {
      logger.error('Graceful shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutSeconds * 1000);
    timer.unref();
    app
      .getHttpAdapter()
      .close()
      .then(() => waitForIdleDatabase(app, config.shutdownTimeoutSeconds * 1000))
      .then(() => app.close())
      .then(afterClose)
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, 'Error during shutdown');
        process.exit(1);
      });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
