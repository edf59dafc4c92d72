import { createHmac, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { jwtVerify } from 'jose';
import { verify as verifyWithJsonwebtoken } from 'jsonwebtoken';
import { loadConfig } from '../../config/app-config';
import { ACCESS_TOKEN_CLAIMS, AccessTokenService } from './access-token.service';
import { SigningKeys } from './signing-keys';

const ISSUER = 'https://auth.example.com';
const AUDIENCE = 'internal-apps';
const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const claims = { sub: 'user-1', sid: 'session-1', amr: ['pwd', 'otp'], authTime: 1_700_000_000 };

function service(current: KeyObject, previous: KeyObject[] = [], env: Record<string, string> = {}) {
  const config = loadConfig({
    JWT_PRIVATE_KEY: current.export({ type: 'pkcs8', format: 'pem' }).toString(),
    JWT_PREVIOUS_PUBLIC_KEYS: previous.map((k) => createPublicKey(k).export({ type: 'spki', format: 'pem' })).join('\n'),
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    ACCESS_TOKEN_TTL: '600',
    ...env,
  });
  const keys = new SigningKeys(config);
  return { tokens: new AccessTokenService(keys, config), keys };
}

const part = (token: string, index: number) => JSON.parse(Buffer.from(token.split('.')[index], 'base64url').toString());
const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('AccessTokenService', () => {
  it('ASVS 9.2.1 / 9.2.2 / 9.2.3: issues a JWT with kid header and exactly the documented claims', () => {
    const { tokens, keys } = service(rsaKey);
    const before = Math.floor(Date.now() / 1000);
    const issued = tokens.issue(claims);
    const after = Math.floor(Date.now() / 1000);

    expect(part(issued.token, 0)).toEqual({ alg: 'RS256', typ: 'JWT', kid: keys.current.kid });
    const payload = part(issued.token, 1);
    expect(Object.keys(payload).sort()).toEqual([...ACCESS_TOKEN_CLAIMS].sort());
    expect(payload).toEqual({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'user-1',
      sid: 'session-1',
      jti: issued.jti,
      iat: expect.any(Number),
      nbf: payload.iat,
      exp: issued.exp,
      auth_time: 1_700_000_000,
      amr: ['pwd', 'otp'],
      typ: 'access',
    });
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(payload.iat).toBeLessThanOrEqual(after);
    expect(payload.exp - payload.iat).toBe(600);
    expect(issued.expiresIn).toBe(600);
    expect(issued.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('gives every token its own jti', () => {
    const { tokens } = service(rsaKey);
    const jtis = new Set(Array.from({ length: 200 }, () => tokens.issue(claims).jti));
    expect(jtis.size).toBe(200);
  });

  it.each([
    ['RS256', rsaKey],
    ['ES256', ecKey],
  ])('ASVS 9.1.1: a %s token verifies with the public key, and a tampered one does not', async (alg, key) => {
    const { tokens } = service(key);
    const { token } = tokens.issue(claims);
    const publicKey = createPublicKey(key);
    const { payload, protectedHeader } = await jwtVerify(token, publicKey, { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg] });
    expect(protectedHeader.alg).toBe(alg);
    expect(payload.sub).toBe('user-1');

    const [header, , signature] = token.split('.');
    const tampered = `${header}.${encode({ ...part(token, 1), sub: 'admin' })}.${signature}`;
    await expect(jwtVerify(tampered, publicKey, { issuer: ISSUER, audience: AUDIENCE })).rejects.toThrow('signature verification failed');
  });

  it('ASVS 9.1.2: verifyOptions pin exactly the algorithms of the known keys, the issuer and the audience', () => {
    expect(service(rsaKey).tokens.verifyOptions()).toEqual({ algorithms: ['RS256'], issuer: ISSUER, audience: AUDIENCE });
    expect(service(rsaKey, [ecKey]).tokens.verifyOptions().algorithms).toEqual(['RS256', 'ES256']);
  });

  describe('verified as passport-jwt does (jsonwebtoken + publicKeyFor + verifyOptions)', () => {
    const { tokens, keys } = service(rsaKey);
    const verify = (token: string, extra: { clockTimestamp?: number } = {}) => {
      const kid = part(token, 0).kid as string;
      const key = keys.publicKeyFor(kid);
      if (!key) throw new Error('unknown kid');
      return verifyWithJsonwebtoken(token, key.key, { ...tokens.verifyOptions(), ...extra });
    };
    const unsigned = (alg: string, payload: object) => `${encode({ alg, typ: 'JWT', kid: keys.current.kid })}.${encode(payload)}`;

    it('accepts an issued token', () => {
      expect(verify(tokens.issue(claims).token)).toMatchObject({ sub: 'user-1', typ: 'access' });
    });

    it('ASVS 9.1.2: rejects alg none and an HS256 token keyed with the public key (algorithm confusion)', () => {
      const payload = part(tokens.issue(claims).token, 1);
      expect(() => verify(`${unsigned('none', payload)}.`)).toThrow('jwt signature is required');
      expect(() => verify(`${unsigned('none', payload)}.c2ln`)).toThrow('invalid algorithm');
      const hsInput = unsigned('HS256', payload);
      const publicPem = keys.current.publicKey.export({ type: 'spki', format: 'pem' });
      const hsToken = `${hsInput}.${createHmac('sha256', publicPem).update(hsInput).digest('base64url')}`;
      expect(() => verify(hsToken)).toThrow('invalid algorithm');
    });

    it('ASVS 9.2.1: rejects a token after exp and before nbf', () => {
      const { token, exp } = tokens.issue(claims);
      expect(() => verify(token, { clockTimestamp: exp })).toThrow('jwt expired');
      expect(() => verify(token, { clockTimestamp: exp - 600 - 1 })).toThrow('jwt not active');
    });

    it('ASVS 9.2.3: rejects a token for another audience or from another issuer', () => {
      const foreign = (env: Record<string, string>) => service(rsaKey, [], env).tokens.issue(claims).token;
      expect(() => verify(foreign({ JWT_AUDIENCE: 'other-app' }))).toThrow(`jwt audience invalid. expected: ${AUDIENCE}`);
      expect(() => verify(foreign({ JWT_ISSUER: 'https://evil.example.com' }))).toThrow(`jwt issuer invalid. expected: ${ISSUER}`);
    });
  });
});
