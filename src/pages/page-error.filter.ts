import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DomainError, DOMAIN_ERRORS } from '../common/problem/domain-error';
import { chooseLocale, LANG_COOKIE, translator } from './i18n/locale';
import { PageCsrfRefused, type PageContext, PageRedirect, type PageRequest } from './page-context';
import { PageRenderer } from './page-renderer';

/**
 * Every failure of a page is a page: a redirect, the 403 "form expired" page, the 429 page with
 * the wait (the same rate limits as the API), or a generic error page — never problem+json.
 */
@Catch()
export class PageErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Pages');

  constructor(private readonly renderer: PageRenderer) {}

  async catch(error: unknown, host: ArgumentsHost): Promise<void> {
    const request = host.switchToHttp().getRequest<PageRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    reply.header('cache-control', 'no-store');
    if (error instanceof PageRedirect) return void reply.redirect(error.location, 303);
    const page = request.page ?? this.fallbackContext(request);
    const { t } = page;
    if (error instanceof PageCsrfRefused) {
      return this.renderer.render(reply, page, 'message', { title: t('error.csrfTitle'), message: t('error.csrf'), alert: true }, { status: 403 });
    }
    if (error instanceof DomainError && error.code === 'rateLimited') {
      const seconds = Number(error.headers?.['retry-after'] ?? 60);
      reply.header('retry-after', String(seconds));
      return this.renderer.render(reply, page, 'message', { title: t('error.rateTitle'), message: t('error.rate', { seconds }), alert: true }, { status: 429 });
    }
    const status = error instanceof DomainError ? DOMAIN_ERRORS[error.code].status : error instanceof HttpException ? error.getStatus() : 500;
    if (status >= 500) this.logger.error({ err: error }, 'Page failed');
    const title = status === 404 ? t('error.notFoundTitle') : t('error.title');
    return this.renderer.render(reply, page, 'message', { title, message: t('error.body'), home: true, alert: true }, { status });
  }

  /** When the guard never ran (the rate limit refused first): language from the request alone. */
  private fallbackContext(request: PageRequest): PageContext {
    const locale = chooseLocale((request.query as Record<string, unknown>).lang, request.cookies?.[LANG_COOKIE], request.headers['accept-language']);
    return { locale, t: translator(locale), principal: null, csrfToken: '', url: request.url };
  }
}
