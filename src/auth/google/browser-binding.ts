import { hkdfSync } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { safeEqual } from '../../common/crypto/safe-equal';
import { hashSecret, hmac, randomSecret } from '../../common/crypto/secrets';

export const OAUTH_COOKIE = 'bastion_oauth';
const COOKIE_PATH = '/api/v1/auth/google';
export const OAUTH_FLOW_TTL_SECONDS = 600;

// HKDF "info": the purpose this key is for, so the same secret could never sign anything else.
export const OAUTH_STATE_KEY_INFO = 'bastion oauth state cookie v1';

/** The cookie's HMAC key: HKDF-SHA256 of OAUTH_STATE_SECRET (never the JWT signing key), base64url. */
export function oauthStateKey(secret: Buffer): string {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), OAUTH_STATE_KEY_INFO, 32)).toString('base64url');
}

/**
 * Binds a started Google flow to the browser that started it: a random nonce in a short-lived,
 * HMAC-signed, HttpOnly cookie. SameSite=Lax, because a Strict cookie is not sent on the
 * top-level redirect back from Google.
 */
export class BrowserBinding {
  private readonly key: string;

  constructor(stateSecret: Buffer) {
    this.key = oauthStateKey(stateSecret);
  }

  /** Sets the cookie; returns the hash to store beside the state. */
  bind(reply: FastifyReply): string {
    const nonce = randomSecret();
    reply.setCookie(OAUTH_COOKIE, `${nonce}.${hmac(this.key, nonce)}`, {
      httpOnly: true,
      secure: true,
      sameSite: 'lax',
      path: COOKIE_PATH,
      maxAge: OAUTH_FLOW_TTL_SECONDS,
    });
    return hashSecret(nonce);
  }

  /** The stored hash of the nonce this browser carries, or null when the cookie is missing or forged. */
  read(request: FastifyRequest): string | null {
    const value = request.cookies?.[OAUTH_COOKIE];
    if (!value || value.length > 200) return null;
    const [nonce, signature] = value.split('.');
    if (!nonce || !signature || !safeEqual(signature, hmac(this.key, nonce))) return null;
    return hashSecret(nonce);
  }

  clear(reply: FastifyReply): void {
    reply.clearCookie(OAUTH_COOKIE, { path: COOKIE_PATH, httpOnly: true, secure: true, sameSite: 'lax' });
  }
}
