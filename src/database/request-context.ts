import { type EntityManager, MikroORM, RequestContext } from '@mikro-orm/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AsyncLocalStorage } from 'node:async_hooks';
import { requestMeta } from '../common/http/request-meta';

/**
 * The request's EntityManager fork, made on first use: most authenticated requests are answered
 * from memory (principal and ability caches) and never touch the database, and a fork (unit of
 * work, identity map) per request was a good part of their cost and garbage. MikroORM reads the
 * context's forks only through `map.get(name)`.
 */
class ForkOnFirstUse extends Map<string, EntityManager> {
  private forking = false;

  constructor(private readonly root: EntityManager) {
    super();
  }

  override get(name: string): EntityManager | undefined {
    let fork = super.get(name);
    // fork() itself asks the context for the current EntityManager: it gets the root, as it does
    // when RequestContext.create() forks before entering the context.
    if (!fork && name === this.root.name && !this.forking) {
      this.forking = true;
      try {
        fork = this.root.fork({ useContext: true });
      } finally {
        this.forking = false;
      }
      this.set(name, fork);
    }
    return fork;
  }
}

/**
 * One forked EntityManager per request (made when first used), and the request's metadata (ip,
 * user agent, id) for audit records. Registered as a Fastify `preHandler` hook — after the body
 * has been read — because an AsyncLocalStorage context entered in an earlier hook or middleware is
 * lost across the body stream's events on POST requests.
 */
export function registerRequestContext(app: NestFastifyApplication): void {
  const root = app.get(MikroORM).em as EntityManager;
  // RequestContext.create() always forks; entering a context of our own needs MikroORM's storage,
  // which its typings keep private (the class is public, the version pinned).
  const storage = (RequestContext as unknown as { storage: AsyncLocalStorage<RequestContext> }).storage;
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
      storage.run(new RequestContext(new ForkOnFirstUse(root)), () => requestMeta.run(meta, done));
    });
}
