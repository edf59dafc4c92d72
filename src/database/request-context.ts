import { MikroORM, RequestContext } from '@mikro-orm/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * One forked EntityManager per request. Registered as a Fastify `preHandler` hook — after the
 * body has been read — because an AsyncLocalStorage context entered in an earlier hook or
 * middleware is lost across the body stream's events on POST requests.
 */
export function registerRequestContext(app: NestFastifyApplication): void {
  const orm = app.get(MikroORM);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('preHandler', (_request, _reply, done) => RequestContext.create(orm.em, done));
}
