import { hmac, randomSecret } from '../common/crypto/secrets';
import { safeEqual } from '../common/crypto/safe-equal';

/**
 * The pre-session cookie of the sign-in forms (login, MFA, register, password recovery): a random
 * secret the page's CSRF token is an HMAC of, so a token is bound to this browser. Signed-in forms
 * use the session's own CSRF token instead (SessionService.csrfTokenFor), the one cookie-mode API
 * clients send as X-CSRF-Token.
 */
export const PRE_SESSION_COOKIE = '__Host-pre';
export const CSRF_FIELD = '_csrf';

export function newPreSessionSecret(): string {
  return randomSecret();
}

export function preSessionCsrfToken(secret: string): string {
  return hmac(secret, 'bastion-page-csrf');
}

/** Constant time; anything but one string of the right value is refused. */
export function csrfMatches(given: unknown, expected: string | undefined): boolean {
  return typeof given === 'string' && !!expected && safeEqual(given, expected);
}
