import { MikroORM, RequestContext } from '@mikro-orm/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { requestMeta } from '../common/http/request-meta';

/**
 * One forked EntityManager per request, and the request's metadata (ip, user agent, id) for
 * audit records. Registered as a Fastify `preHandler` hook — after the body has been read —
 * because an AsyncLocalStorage context entered in an earlier hook or middleware is lost across
 * the body stream's events on POST requests.
 */
export function registerRequestContext(app: NestFastifyApplication): void {
  const orm = app.get(MikroORM);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('preHandler', (request, _reply, done) => {
      const userAgent = request.headers['user-agent'];
      const meta = {
        ip: request.ip ?? null,
        userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : null,
        requestId: String(request.id),
      };
      RequestContext.create(orm.em, () => requestMeta.run(meta, done));
    });
}
