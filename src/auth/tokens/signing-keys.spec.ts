import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { loadConfig } from '../../config/app-config';
import { jwkThumbprint } from './jwk';
import { SigningKeys } from './signing-keys';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

function privatePem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}
function publicPem(key: KeyObject): string {
  return createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
}
const rsa = (modulusLength = 2048) => generateKeyPairSync('rsa', { modulusLength }).privateKey;
const ec = (namedCurve = 'P-256') => generateKeyPairSync('ec', { namedCurve }).privateKey;

function signingKeys(current: KeyObject | string | undefined, previous: KeyObject[] = []): SigningKeys {
  const pem = current === undefined || typeof current === 'string' ? current : privatePem(current);
  return new SigningKeys(loadConfig({ JWT_PRIVATE_KEY: pem, JWT_PREVIOUS_PUBLIC_KEYS: previous.map(publicPem).join('\n') }));
}

describe('SigningKeys', () => {
  const rsaKey = rsa();
  const ecKey = ec();

  it('uses the RFC 7638 thumbprint of the public key as kid, stable across restarts (RSA and EC)', async () => {
    for (const [key, alg] of [[rsaKey, 'RS256'], [ecKey, 'ES256']] as const) {
      const keys = signingKeys(key);
      const expected = await calculateJwkThumbprint(createPublicKey(key).export({ format: 'jwk' }) as JWK, 'sha256');
      expect(keys.current).toMatchObject({ kid: expected, alg });
      expect(signingKeys(key).current.kid).toBe(expected);
    }
  });

  it('matches the worked example of RFC 7638 §3.1', () => {
    const n =
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
    const key = createPublicKey({ key: { kty: 'RSA', n, e: 'AQAB' }, format: 'jwk' });
    expect(jwkThumbprint(key)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('publishes only public members, kid, alg and use for RSA and EC keys', () => {
    const { keys } = signingKeys(rsaKey, [ecKey]).jwks();
    expect(keys).toHaveLength(2);
    expect(Object.keys(keys[0]).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(Object.keys(keys[1]).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    expect(keys[1]).toMatchObject({ kty: 'EC', alg: 'ES256', use: 'sig', crv: 'P-256' });
    const ecOnly = signingKeys(ecKey).jwks().keys[0];
    for (const jwk of [...keys, ecOnly]) {
      for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
    }
  });

  it('ASVS 9.1.3: publishes previous public keys and resolves only configured keys by kid', () => {
    const previousRsa = rsa();
    const keys = signingKeys(rsaKey, [ecKey, previousRsa, ecKey, rsaKey]);
    const kids = keys.jwks().keys.map((k) => k.kid);
    expect(kids).toEqual([jwkThumbprint(rsaKey), jwkThumbprint(ecKey), jwkThumbprint(previousRsa)]);
    expect(keys.publicKeyFor(kids[0])).toEqual({ alg: 'RS256', key: keys.current.publicKey });
    expect(keys.publicKeyFor(kids[1])?.alg).toBe('ES256');
    expect(keys.publicKeyFor(kids[1])?.key.equals(createPublicKey(ecKey))).toBe(true);
    expect(keys.publicKeyFor(kids[2])?.key.equals(createPublicKey(previousRsa))).toBe(true);
    for (const unknown of ['', 'nope', '__proto__', 'constructor', kids[0].slice(1)]) {
      expect(keys.publicKeyFor(unknown)).toBeUndefined();
    }
    expect(keys.algorithms().sort()).toEqual(['ES256', 'RS256']);
  });

  it('accepts previous keys written on one line with literal \\n, as env files carry them', () => {
    const oneLine = publicPem(ecKey).trim().replace(/\n/g, '\\n');
    const keys = new SigningKeys(loadConfig({ JWT_PRIVATE_KEY: privatePem(rsaKey), JWT_PREVIOUS_PUBLIC_KEYS: oneLine }));
    expect(keys.publicKeyFor(jwkThumbprint(ecKey))?.alg).toBe('ES256');
  });

  it('refuses to start without a signing key', () => {
    expect(() => signingKeys(undefined)).toThrow(/^JWT_PRIVATE_KEY: no signing key is configured/);
  });

  it.each([
    ['Ed25519', () => generateKeyPairSync('ed25519').privateKey, /Unsupported signing key type "ed25519"/],
    ['RSA-1024', () => rsa(1024), /at least 2048 bits \(got 1024\)/],
    ['EC P-384', () => ec('P-384'), /Unsupported signing key type "ec secp384r1"/],
  ])('ASVS 9.1.2: refuses a %s signing key, current or previous, naming the variable', (_name, make, message) => {
    const weak = make();
    expect(() => signingKeys(weak)).toThrow(message);
    expect(() => signingKeys(weak)).toThrow(/^JWT_PRIVATE_KEY: /);
    expect(() => signingKeys(rsaKey, [weak])).toThrow(/^JWT_PREVIOUS_PUBLIC_KEYS\[0\]: /);
  });

  it('refuses an unreadable key without echoing it', () => {
    const garbage = '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ1dC1icm9rZW4=\n-----END PRIVATE KEY-----';
    let error: Error | undefined;
    try {
      signingKeys(garbage);
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).toMatch(/^JWT_PRIVATE_KEY: cannot be read as an unencrypted PEM private key/);
    expect(error?.message).not.toContain('c2VjcmV0');
  });
});
