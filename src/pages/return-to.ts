export const DEFAULT_RETURN_TO = '/account';
const MAX_LENGTH = 2048;

/**
 * Where a page may send the browser after sign-in (open-redirect defence): a path on this origin,
 * or a URL on APP_URL's origin or an origin of RETURN_TO_ORIGINS; anything else is `/account`.
 * Paths are re-serialised by the URL parser, so what is returned is what was checked. Backslashes
 * and control characters are refused outright: browsers read `/\host` and `/\t/host` as `//host`.
 */
export function safeReturnTo(value: unknown, appUrl: string, allowedOrigins: readonly string[]): string {
  if (typeof value !== 'string' || !value || value.length > MAX_LENGTH) return DEFAULT_RETURN_TO;
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u0020\u007f]/.test(value)) return DEFAULT_RETURN_TO;
  const base = new URL(appUrl);
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    return DEFAULT_RETURN_TO;
  }
  if (value.startsWith('/')) {
    if (value.startsWith('//') || url.origin !== base.origin) return DEFAULT_RETURN_TO;
    return `${url.pathname}${url.search}${url.hash}`;
  }
  if (!/^https?:\/\//i.test(value) || (url.protocol !== 'https:' && url.protocol !== 'http:')) return DEFAULT_RETURN_TO;
  if (url.username || url.password) return DEFAULT_RETURN_TO;
  return url.origin === base.origin || allowedOrigins.includes(url.origin) ? url.href : DEFAULT_RETURN_TO;
}
