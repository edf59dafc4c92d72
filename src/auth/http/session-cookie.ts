import type { FastifyReply } from 'fastify';
import type { CookieSession } from '../sessions/session-credentials';
import { SESSION_COOKIE } from '../sessions/session-credentials';

/** Sets `__Host-sid` (HttpOnly, Secure, SameSite=Strict, Path=/) and returns the cookie-mode body. */
export function sendCookieSession(reply: FastifyReply, session: CookieSession): { csrfToken: string; expiresIn: number } {
  reply.setCookie(SESSION_COOKIE, session.cookieSecret, { httpOnly: true, secure: true, sameSite: 'strict', path: '/', maxAge: session.expiresIn });
  return { csrfToken: session.csrfToken, expiresIn: session.expiresIn };
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, secure: true, sameSite: 'strict', path: '/' });
}

/** The body of any successful sign-in step: tokens, the cookie-mode body, or an MFA challenge. */
export function sendSignIn<T extends object>(reply: FastifyReply, result: T | CookieSession): T | { csrfToken: string; expiresIn: number } {
  return 'cookieSecret' in result ? sendCookieSession(reply, result as CookieSession) : (result as T);
}
