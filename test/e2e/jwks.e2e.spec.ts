import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, SignJWT } from 'jose';
import { jwkThumbprint, type PublishedJwk } from '../../src/auth/tokens/jwk';
import { ACCESS_TOKEN_CLAIMS, AccessTokenService } from '../../src/auth/tokens/access-token.service';
import { SigningKeys } from '../../src/auth/tokens/signing-keys';
import { TokensModule } from '../../src/auth/tokens/tokens.module';
import { createTestApp, type TestApp } from '../support/test-app';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

describe('JWKS and discovery: other apps verify our access tokens on their own', () => {
  // A previous key still published after a rotation: tokens it signed must keep verifying.
  const previousKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  let t: TestApp;
  let currentKid: string;
  const verifyOptions = () => ({ issuer: t.config.jwt.issuer, audience: t.config.jwt.audience });
  const remoteJwks = () => createRemoteJWKSet(new URL('/.well-known/jwks.json', t.url));
  const forge = (kid: string, alg: 'RS256' | 'ES256', key = strangerKey) =>
    new SignJWT({ sid: 's', typ: 'access', amr: ['pwd'] })
      .setProtectedHeader({ alg, typ: 'JWT', kid })
      .setSubject('user-1')
      .setIssuer(t.config.jwt.issuer)
      .setAudience(t.config.jwt.audience)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);

  beforeAll(async () => {
    const previousPem = createPublicKey(previousKey).export({ type: 'spki', format: 'pem' }).toString();
    t = await createTestApp({ imports: [TokensModule], listen: true, env: { JWT_PREVIOUS_PUBLIC_KEYS: previousPem } });
    currentKid = t.app.get(SigningKeys).current.kid;
  });
  afterAll(() => t.close());

  it('serves the current and previous public keys to anonymous callers, cacheable, without private members', async () => {
    const res = await fetch(`${t.url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(res.headers.get('content-type')).toContain('application/json');
    const { keys } = (await res.json()) as { keys: PublishedJwk[] };
    expect(keys.map((k) => k.kid)).toEqual([currentKid, jwkThumbprint(previousKey)]);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB', n: expect.any(String) });
    expect(keys[1]).toMatchObject({ kty: 'EC', alg: 'ES256', use: 'sig', crv: 'P-256' });
    for (const key of keys) for (const member of PRIVATE_MEMBERS) expect(key).not.toHaveProperty(member);
  });

  it('serves the discovery document pointing at the JWKS', async () => {
    const res = await fetch(`${t.url}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      issuer: 'http://localhost:3000',
      jwks_uri: 'http://localhost:3000/.well-known/jwks.json',
      token_endpoint: 'http://localhost:3000/api/v1/auth/refresh',
      id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      response_types_supported: [],
      subject_types_supported: ['public'],
      claims_supported: [...ACCESS_TOKEN_CLAIMS],
    });
  });

  it('ASVS 9.1.1 / 9.2.3: an issued access token verifies with jose against the remote JWKS, issuer and audience pinned', async () => {
    const issued = t.app.get(AccessTokenService).issue({ sub: 'user-1', sid: 'session-1', amr: ['pwd'], authTime: 1_700_000_000 });
    const { payload, protectedHeader } = await jwtVerify(issued.token, remoteJwks(), { ...verifyOptions(), algorithms: ['RS256'] });
    expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT', kid: currentKid });
    expect(payload).toMatchObject({ sub: 'user-1', sid: 'session-1', jti: issued.jti, exp: issued.exp, typ: 'access' });
    await expect(jwtVerify(issued.token, remoteJwks(), { ...verifyOptions(), audience: 'another-app' })).rejects.toThrow('unexpected "aud" claim value');
  });

  it('ASVS 9.1.3: a token signed by a previous key still verifies through the JWKS after a rotation', async () => {
    const token = await forge(jwkThumbprint(previousKey), 'ES256', previousKey);
    const { protectedHeader } = await jwtVerify(token, remoteJwks(), verifyOptions());
    expect(protectedHeader.kid).toBe(jwkThumbprint(previousKey));
  });

  it('ASVS 9.1.1: a token signed by another key under our kid fails verification', async () => {
    const token = await forge(currentKid, 'RS256');
    await expect(jwtVerify(token, remoteJwks(), verifyOptions())).rejects.toThrow('signature verification failed');
  });

  it('ASVS 9.1.3: a token whose kid is not published fails verification', async () => {
    const token = await forge(jwkThumbprint(strangerKey), 'RS256');
    await expect(jwtVerify(token, remoteJwks(), verifyOptions())).rejects.toThrow('no applicable key found in the JSON Web Key Set');
  });
});
