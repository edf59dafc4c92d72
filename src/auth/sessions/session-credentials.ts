/** The login body of API.md (bearer mode). */
export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/** Cookie mode: the secret goes into `__Host-sid`; the body carries the CSRF token. */
export interface CookieSession {
  cookieSecret: string;
  csrfToken: string;
  expiresIn: number;
}

export type SignInMode = 'bearer' | 'cookie';

export const SESSION_COOKIE = '__Host-sid';
