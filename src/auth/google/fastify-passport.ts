import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Strategy } from 'passport';

/**
 * The Fastify compatibility layer for the Google flow (nestjs/nest#5702). Passport's OAuth
 * strategies end the *start* of a flow with `this.redirect(url)`, which Passport implements with
 * `res.setHeader`/`res.end` — methods a FastifyReply does not have. Here the strategy runs with
 * Passport's action methods supplied directly, so the redirect comes back as a value and Nest
 * answers it like any other response. The reply is also attached to the request, because
 * passport-oauth2's state store only receives `req` and must set the browser-binding cookie.
 * Only the Google routes use this; the callback runs through @nestjs/passport's AuthGuard, which
 * never needs `res`.
 */
export const REPLY_OF_REQUEST = Symbol('bastion:reply');

export type RequestWithReply = FastifyRequest & { [REPLY_OF_REQUEST]?: FastifyReply };

export type StrategyOutcome =
  | { kind: 'redirect'; url: string }
  | { kind: 'success'; user: unknown }
  | { kind: 'fail'; info: unknown }
  | { kind: 'error'; error: unknown };

export function attachReply(request: FastifyRequest, reply: FastifyReply): void {
  (request as RequestWithReply)[REPLY_OF_REQUEST] = reply;
}

export function replyOf(request: unknown): FastifyReply | undefined {
  return (request as RequestWithReply)[REPLY_OF_REQUEST];
}

export function runStrategy(strategy: Strategy, request: FastifyRequest, reply: FastifyReply, options: Record<string, unknown>): Promise<StrategyOutcome> {
  attachReply(request, reply);
  return new Promise((resolve) => {
    const actions = Object.create(strategy) as Strategy & {
      redirect(url: string): void;
      success(user: unknown): void;
      fail(info: unknown): void;
      error(error: unknown): void;
      pass(): void;
    };
    actions.redirect = (url) => resolve({ kind: 'redirect', url });
    actions.success = (user) => resolve({ kind: 'success', user });
    actions.fail = (info) => resolve({ kind: 'fail', info });
    actions.error = (error) => resolve({ kind: 'error', error });
    actions.pass = () => resolve({ kind: 'fail', info: { message: 'no credentials' } });
    (actions.authenticate as (this: unknown, req: unknown, options: unknown) => void).call(actions, request, options);
  });
}
