import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

export type SigningAlgorithm = 'RS256' | 'ES256';

/** A public key as published in the JWKS: public members only, plus how to use it. */
export interface PublishedJwk extends JsonWebKey {
  kty: 'RSA' | 'EC';
  kid: string;
  alg: SigningAlgorithm;
  use: 'sig';
}

/** NIST P-256 as Node names it (OpenSSL's name for secp256r1). */
const P256 = 'prime256v1';
const MIN_RSA_BITS = 2048;

/**
 * The JWS algorithm a key is allowed to sign with. Only RSA ≥ 2048 bits (RS256) and EC P-256
 * (ES256) are accepted: every internal verifier supports them, and one algorithm per key type
 * means a key can never be used with an algorithm it was not meant for.
 */
export function signingAlgorithmOf(key: KeyObject): SigningAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    if ((details.modulusLength ?? 0) < MIN_RSA_BITS) {
      throw new Error(`RSA signing keys must have at least ${MIN_RSA_BITS} bits (got ${details.modulusLength ?? 'unknown'})`);
    }
    return 'RS256';
  }
  if (key.asymmetricKeyType === 'ec' && details.namedCurve === P256) return 'ES256';
  const kind = key.asymmetricKeyType === 'ec' ? `ec ${details.namedCurve}` : (key.asymmetricKeyType ?? key.type);
  throw new Error(`Unsupported signing key type "${kind}": use RSA (2048 bits or more, RS256) or EC P-256 (ES256)`);
}

/**
 * The RFC 7638 required members of a public key, in lexicographic order. Built member by member
 * from the public key only, so no private member can ever slip into the JWKS.
 */
export function requiredJwkMembers(key: KeyObject): { kty: 'RSA' | 'EC' } & JsonWebKey {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty === 'RSA') return { e: jwk.e, kty: 'RSA', n: jwk.n };
  if (jwk.kty === 'EC') return { crv: jwk.crv, kty: 'EC', x: jwk.x, y: jwk.y };
  throw new Error(`Unsupported key type ${String(jwk.kty)}`);
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url): the `kid`, stable for a key wherever it is computed. */
export function jwkThumbprint(key: KeyObject): string {
  return createHash('sha256').update(JSON.stringify(requiredJwkMembers(key))).digest('base64url');
}

export function publishedJwk(key: KeyObject, kid: string, alg: SigningAlgorithm): PublishedJwk {
  return Object.freeze({ ...requiredJwkMembers(key), kid, alg, use: 'sig' });
}
