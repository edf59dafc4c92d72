import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AppConfig } from '../config/app-config';
import { LOCALES } from './i18n/locale';
import type { PageContext } from './page-context';
import { pageCsp } from './page-csp';

export interface RenderOptions {
  status?: number;
  /** Field name → translated message; the first one gets focus (autofocus) and the summary. */
  errors?: Record<string, string>;
  /** Extra `form-action` origins (a sign-in that ends on another allowed origin). */
  formActionOrigins?: readonly string[];
}

/** Renders a view inside the layout with what every page needs: texts, brand, CSRF token, language links. */
@Injectable()
export class PageRenderer {
  constructor(@Inject(AppConfig) private readonly config: AppConfig) {}

  async render(reply: FastifyReply, page: PageContext, view: string, data: Record<string, unknown> = {}, options: RenderOptions = {}): Promise<void> {
    if (options.formActionOrigins?.length) reply.header('content-security-policy', pageCsp(this.config, options.formActionOrigins));
    const errors = options.errors ?? {};
    reply.code(options.status ?? 200).type('text/html; charset=utf-8');
    await reply.view(view, {
      ...data,
      t: page.t,
      lang: page.locale,
      languages: Object.keys(LOCALES).map((code) => ({ code, name: LOCALES[code as keyof typeof LOCALES]['lang.name'], href: withLang(page.url, code), current: code === page.locale })),
      brand: this.config.pages.brand,
      csrf: page.csrfToken,
      // The sign-out button is a signed-in form on every page, anonymous ones included.
      logoutCsrf: page.principal?.csrfToken,
      signedIn: !!page.principal,
      errors,
      firstError: Object.keys(errors)[0],
    });
  }
}

/** The current path and query with `lang` set (other parameters, e.g. a link token, are kept). */
function withLang(url: string, code: string): string {
  const parsed = new URL(url, 'http://x');
  parsed.searchParams.set('lang', code);
  return `${parsed.pathname}${parsed.search}`;
}
