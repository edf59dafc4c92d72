import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal/principal';
import type { Locale, Translate } from './i18n/locale';

/**
 * Who may open a page: `anonymous` pages (sign-in, registration, recovery) use the pre-session
 * CSRF cookie and work signed in or not; `signed-in` pages redirect to /login without a session
 * and take the session's CSRF token.
 */
export type PageAccessRule = 'anonymous' | 'signed-in';
export const PAGE_ACCESS = 'bastion:page-access';
export const PageAccess = (rule: PageAccessRule) => SetMetadata(PAGE_ACCESS, rule);

/** What the page guard learned about the request, for the handler and the templates. */
export interface PageContext {
  locale: Locale;
  t: Translate;
  principal: Principal | null;
  /** The `_csrf` value this page's forms carry. */
  csrfToken: string;
  /** The path and query of this request (language links keep them). */
  url: string;
}

export type PageRequest = FastifyRequest & { page?: PageContext };

export const Page = createParamDecorator((_data: unknown, context: ExecutionContext): PageContext => {
  const page = context.switchToHttp().getRequest<PageRequest>().page;
  if (!page) throw new Error('PageGuard did not run');
  return page;
});

/** Thrown to answer with a redirect from anywhere in a page's handling (guard or handler). */
export class PageRedirect extends Error {
  constructor(readonly location: string) {
    super(`redirect to ${location}`);
  }
}

/** A POST without the right `_csrf`: the 403 page, nothing changed. */
export class PageCsrfRefused extends Error {
  constructor() {
    super('CSRF token missing or invalid');
  }
}
