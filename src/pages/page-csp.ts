import type { AppConfig } from '../config/app-config';

/**
 * The pages' Content-Security-Policy: stricter than the API's default (no inline style at all),
 * with the brand logo's origin for images and, during a sign-in that ends on another allowed
 * origin, that origin for `form-action` (Chromium applies it to the redirect after a POST).
 */
export function pageCsp(config: AppConfig, formActionOrigins: readonly string[] = []): string {
  const logo = config.pages.brand.logoUrl?.startsWith('http') ? [new URL(config.pages.brand.logoUrl).origin] : [];
  return [
    "default-src 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    ["img-src 'self' data:", ...logo].join(' '),
    ["form-action 'self'", ...formActionOrigins].join(' '),
    "frame-ancestors 'none'",
  ].join('; ');
}
