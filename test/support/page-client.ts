import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from './test-app';

/**
 * A browser without a browser: app.inject with a cookie jar and form posts, for the hosted pages
 * in `npm test` (the test/browser tier runs the same flows in Chromium).
 */
export class PageClient {
  readonly cookies = new Map<string, string>();
  last?: LightMyRequestResponse;

  constructor(
    private readonly t: TestApp,
    private readonly headers: Record<string, string> = {},
  ) {}

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.send({ method: 'GET', url, headers });
  }

  /**
   * Posts a form; `_csrf` is taken from the last page's form with this action (else its first
   * form) unless given — pass `_csrf: undefined` to leave it out.
   */
  async post(url: string, form: Record<string, string | undefined>): Promise<LightMyRequestResponse> {
    const fields: Record<string, string> = {};
    const withCsrf = '_csrf' in form ? form : { _csrf: this.last ? csrfOf(this.last.body, url) : undefined, ...form };
    for (const [k, v] of Object.entries(withCsrf)) if (v !== undefined) fields[k] = v;
    return this.send({ method: 'POST', url, payload: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  private async send(request: { method: 'GET' | 'POST'; url: string; payload?: string; headers?: Record<string, string> }): Promise<LightMyRequestResponse> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await this.t.app.inject({ ...request, headers: { ...this.headers, ...request.headers, ...(cookie ? { cookie } : {}) } });
    for (const header of [res.headers['set-cookie'] ?? []].flat()) {
      const [pair, ...attributes] = header.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      const expired = attributes.some((a) => /^\s*max-age=0$/i.test(a) || /^\s*expires=thu, 01 jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    if (res.headers['content-type']?.toString().startsWith('text/html')) this.last = res;
    return res;
  }
}

/** The `_csrf` of the form posting to `action` (the sign-out form carries another token), else of the first form. */
export function csrfOf(html: string, action?: string): string {
  const escaped = action?.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const ofForm = escaped ? new RegExp(`action="${escaped}"[^>]*>\\s*<input type="hidden" name="_csrf" value="([^"]*)"`).exec(html) : null;
  const match = ofForm ?? /name="_csrf" value="([^"]*)"/.exec(html);
  if (!match) throw new Error('no _csrf field on the page');
  return match[1];
}

/** The text of an element with this id (tags stripped), for asserting messages. */
export function textOf(html: string, pattern: RegExp): string | undefined {
  return pattern.exec(html)?.[1]?.replace(/<[^>]+>/g, '').trim();
}
