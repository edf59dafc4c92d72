import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getStorageToken, type ThrottlerStorage } from '@nestjs/throttler';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { SigningKeys } from '../auth/tokens/signing-keys';
import { problem, ProblemType } from '../common/problem/problem-details';
import { sendProblem } from '../common/problem/problem-response';
import { AppConfig } from '../config/app-config';
import { InteractionsService } from './interaction/interactions.service';
import { registerInteractionRoutes } from './interaction/interaction-routes';
import { OidcProvider } from './oidc-provider.service';
import { OIDC_MOUNT } from './provider-configuration';

/** Endpoints where a client presents its secret: they count against THROTTLE_AUTH_LIMIT too. */
const CREDENTIAL_PATHS = new Set([`${OIDC_MOUNT}/token`, `${OIDC_MOUNT}/token/introspection`, `${OIDC_MOUNT}/token/revocation`]);

/**
 * Mounts the provider under /oidc as plain Fastify routes in their own encapsulated plugin, so
 * helmet, request ids, metrics, the request context and rate limits apply as to every route —
 * but the body is left unread for oidc-provider (a Nest controller or a body parser would consume
 * the form body of /token first). Registered by configureApp after helmet.
 */
export async function registerOidcRoutes(app: NestFastifyApplication): Promise<void> {
  const { provider } = app.get(OidcProvider);
  const interactions = app.get(InteractionsService);
  const keys = app.get(SigningKeys);
  const config = app.get(AppConfig);
  const storage = app.get<ThrottlerStorage>(getStorageToken());
  const callback = provider.callback();
  const ttl = config.throttle.ttlSeconds * 1000;

  async function throttle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const limits: [string, number][] = [['default', config.throttle.limit]];
    if (request.method === 'POST' && CREDENTIAL_PATHS.has(request.url.split('?')[0])) limits.push(['auth', config.throttle.authLimit]);
    for (const [name, limit] of limits) {
      const record = await storage.increment(`oidc:${name}:${request.ip}`, ttl, limit, ttl, name);
      if (record.isBlocked) {
        const retryAfter = Math.max(1, Math.ceil(record.timeToBlockExpire));
        return sendProblem(reply, { problem: problem(429, 'Too many requests; retry later', { title: 'Too Many Requests', type: ProblemType.rateLimited }), unexpected: false, headers: { 'retry-after': String(retryAfter) } });
      }
    }
  }

  /** Hands the raw request to oidc-provider with the headers Fastify's hooks set (helmet, request id). */
  function handOver(request: FastifyRequest, reply: FastifyReply): void {
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value as string);
    reply.hijack();
    const raw = request.raw as IncomingMessage & { originalUrl?: string };
    raw.originalUrl = raw.url;
    raw.url = (raw.url ?? '').slice(OIDC_MOUNT.length) || '/';
    callback(raw, reply.raw);
  }

  await app.register(async (instance: FastifyInstance) => {
    // oidc-provider reads the body itself.
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    instance.addHook('onRequest', throttle);
    registerInteractionRoutes(instance, provider, interactions);
    // One JWKS for API and OIDC tokens, with the previous keys of a rotation.
    instance.get(`${OIDC_MOUNT}/jwks`, (_request, reply) => reply.header('cache-control', 'public, max-age=300').type('application/jwk-set+json').send(keys.jwks()));
    // The methods the protocol uses (OPTIONS: CORS preflight of the token and userinfo endpoints).
    instance.route({ method: ['GET', 'POST', 'OPTIONS'], url: OIDC_MOUNT, handler: handOver });
    instance.route({ method: ['GET', 'POST', 'OPTIONS'], url: `${OIDC_MOUNT}/*`, handler: handOver });
  });
}
