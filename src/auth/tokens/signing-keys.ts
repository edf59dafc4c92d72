import { Inject, Injectable } from '@nestjs/common';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { AppConfig } from '../../config/app-config';
import { jwkThumbprint, publishedJwk, type PublishedJwk, signingAlgorithmOf, type SigningAlgorithm } from './jwk';

export interface CurrentSigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface VerificationKey {
  alg: SigningAlgorithm;
  key: KeyObject;
}

/**
 * The current signing key and every public key still accepted (the previous ones, kept through a
 * rotation). PEMs are parsed once, at start: a bad or weak key stops the app before it serves a
 * request, and the hot path (sign, look up by kid) never parses a PEM.
 */
@Injectable()
export class SigningKeys {
  readonly current: CurrentSigningKey;
  private readonly byKid = new Map<string, VerificationKey>();
  private readonly published: { keys: PublishedJwk[] };

  constructor(@Inject(AppConfig) config: AppConfig) {
    this.current = loadCurrent(config.jwt.privateKeyPem);
    const keys = [publishedJwk(this.current.publicKey, this.current.kid, this.current.alg)];
    this.byKid.set(this.current.kid, { alg: this.current.alg, key: this.current.publicKey });
    config.jwt.previousPublicKeysPem.forEach((pem, index) => {
      const variable = `JWT_PREVIOUS_PUBLIC_KEYS[${index}]`;
      // Env files often carry PEMs on one line with literal \n, as JWT_PRIVATE_KEY allows.
      const key = parseKey(variable, 'public', () => createPublicKey(pem.replace(/\\n/g, '\n')));
      const alg = algorithmFor(variable, key);
      const kid = jwkThumbprint(key);
      // The same key listed twice (or the current key left in the list) is published once.
      if (this.byKid.has(kid)) return;
      this.byKid.set(kid, { alg, key });
      keys.push(publishedJwk(key, kid, alg));
    });
    this.published = Object.freeze({ keys: Object.freeze(keys) as PublishedJwk[] });
  }

  /** The verification key for a token's `kid` header; undefined for an unknown kid (reject it). */
  publicKeyFor(kid: string): VerificationKey | undefined {
    return this.byKid.get(kid);
  }

  /** Every algorithm a verifier may accept: exactly those of the known keys. */
  algorithms(): SigningAlgorithm[] {
    return [...new Set([...this.byKid.values()].map((k) => k.alg))];
  }

  /** The JWKS document: public members, kid, alg and use of the current and previous keys. */
  jwks(): { keys: PublishedJwk[] } {
    return this.published;
  }
}

function loadCurrent(pem: string | undefined): CurrentSigningKey {
  if (!pem) {
    throw new Error('JWT_PRIVATE_KEY: no signing key is configured (development generates one at start; production must set it)');
  }
  const privateKey = parseKey('JWT_PRIVATE_KEY', 'private', () => createPrivateKey(pem));
  const alg = algorithmFor('JWT_PRIVATE_KEY', privateKey);
  const publicKey = createPublicKey(privateKey);
  return { kid: jwkThumbprint(publicKey), alg, privateKey, publicKey };
}

// Errors name the variable and never include key material.
function parseKey(variable: string, kind: 'private' | 'public', parse: () => KeyObject): KeyObject {
  try {
    return parse();
  } catch (err) {
    throw new Error(`${variable}: cannot be read as an unencrypted PEM ${kind} key (${messageOf(err)})`);
  }
}

function algorithmFor(variable: string, key: KeyObject): SigningAlgorithm {
  try {
    return signingAlgorithmOf(key);
  } catch (err) {
    throw new Error(`${variable}: ${messageOf(err)}`);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
