import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { Credential } from '../principal/principal-resolver';

// A short bound keeps the cache small; revocation never depends on it (checked on every request).
const MAX_AGE_MS = 60_000;

/**
 * Access tokens whose signature and claims were already verified, so a client reusing its token
 * does not pay an RSA verification per request. Only the verification is cached: revocation,
 * user status and roles are still resolved on every request, and an entry never outlives `exp`.
 */
@Injectable()
export class VerifiedTokenCache {
  private readonly tokens = new LRUCache<string, Credential>({ max: 20_000, ttl: MAX_AGE_MS, ttlAutopurge: false });

  get(token: string): Credential | undefined {
    const credential = this.tokens.get(token);
    if (credential && credential.expiresAt.getTime() <= Date.now()) {
      this.tokens.delete(token);
      return undefined;
    }
    return credential;
  }

  remember(token: string, credential: Credential): void {
    const ttl = Math.min(MAX_AGE_MS, credential.expiresAt.getTime() - Date.now());
    if (ttl > 0) this.tokens.set(token, credential, { ttl });
  }
}
