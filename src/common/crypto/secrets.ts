import { createHash, createHmac, randomBytes } from 'node:crypto';

/** An opaque secret of `bytes` random bytes (default 256 bits), base64url. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** How opaque secrets (refresh tokens, link tokens, session cookies) are stored: SHA-256, hex. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function hmac(key: string, message: string): string {
  return createHmac('sha256', key).update(message).digest('base64url');
}
