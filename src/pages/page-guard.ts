import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import { SESSION_COOKIE } from '../auth/sessions/session-credentials';
import { SessionCookieStrategy } from '../auth/strategies/session-cookie.strategy';
import { AppConfig } from '../config/app-config';
import { chooseLocale, LANG_COOKIE, translator } from './i18n/locale';
import { PAGE_ACCESS, PageCsrfRefused, type PageAccessRule, PageRedirect, type PageRequest } from './page-context';
import { CSRF_FIELD, csrfMatches, newPreSessionSecret, PRE_SESSION_COOKIE, preSessionCsrfToken } from './page-csrf';
import { pageCsp } from './page-csp';

const YEAR_SECONDS = 365 * 24 * 3600;
const SECRET_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Runs before every page handler (after the global rate limit): security headers, language,
 * the cookie session (the same `__Host-sid` as the API's cookie mode), and CSRF on every POST.
 */
@Injectable()
export class PageGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly cookieSessions: SessionCookieStrategy,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<PageRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    reply.header('cache-control', 'no-store');
    reply.header('content-security-policy', pageCsp(this.config));

    const query = request.query as Record<string, unknown>;
    const locale = chooseLocale(query.lang, request.cookies[LANG_COOKIE], request.headers['accept-language']);
    if (query.lang === locale) reply.setCookie(LANG_COOKIE, locale, { path: '/', httpOnly: true, secure: true, sameSite: 'lax', maxAge: YEAR_SECONDS });

    const principal = request.cookies[SESSION_COOKIE] ? (await this.cookieSessions.validate(request)) || null : null;
    const rule = this.reflector.getAllAndOverride<PageAccessRule | undefined>(PAGE_ACCESS, [context.getHandler(), context.getClass()]) ?? 'anonymous';
    const csrfToken = rule === 'signed-in' ? principal?.csrfToken : this.preSessionToken(request, reply);
    request.page = { locale, t: translator(locale), principal, csrfToken: csrfToken ?? '', url: request.url };

    if (rule === 'signed-in' && !principal) {
      throw new PageRedirect(request.method === 'GET' ? `/login?return_to=${encodeURIComponent(request.url)}` : '/login');
    }
    if (request.method === 'POST' && !csrfMatches((request.body as Record<string, unknown> | undefined)?.[CSRF_FIELD], csrfToken)) {
      throw new PageCsrfRefused();
    }
    return true;
  }

  /** The pre-session cookie's token, creating the cookie on a first visit (a POST without it fails the check). */
  private preSessionToken(request: PageRequest, reply: FastifyReply): string | undefined {
    const existing = request.cookies[PRE_SESSION_COOKIE];
    if (existing && SECRET_SHAPE.test(existing)) return preSessionCsrfToken(existing);
    if (request.method !== 'GET') return undefined;
    const secret = newPreSessionSecret();
    reply.setCookie(PRE_SESSION_COOKIE, secret, { path: '/', httpOnly: true, secure: true, sameSite: 'strict' });
    return preSessionCsrfToken(secret);
  }
}
