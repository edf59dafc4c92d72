import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { type CreatedUser, login, loginTokens } from '../support/auth-helpers';
import { testSigningKey, type TestApp } from '../support/test-app';

/** Who a fuzzed request claims to be: a set of credential headers. */
export interface Identity {
  name: string;
  /** The seeded user behind a live credential. */
  userId?: string;
  /** A real, live credential of a seeded user (its requests reach validation and services). */
  live: boolean;
  /** Bearer-authenticated admin: passes every policy, so a 400 proves the input was checked. */
  admin?: boolean;
  headers(): Record<string, string>;
  /** Signs in again (after a fuzzed request legitimately ended the session). */
  renew(): Promise<void>;
}

const b64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');
const encode = (o: object) => b64url(JSON.stringify(o));

export function bearerIdentity(t: TestApp, name: string, user: CreatedUser, admin = false): Identity {
  let token = '';
  const identity: Identity = {
    name,
    userId: user.id,
    live: true,
    admin,
    headers: () => ({ authorization: `Bearer ${token}` }),
    renew: async () => {
      token = (await loginTokens(t, user)).accessToken;
    },
  };
  return identity;
}

export function cookieIdentity(t: TestApp, name: string, user: CreatedUser): Identity {
  let cookie = '';
  let csrf = '';
  return {
    name,
    userId: user.id,
    live: true,
    headers: () => ({ cookie: `__Host-sid=${cookie}`, 'x-csrf-token': csrf }),
    renew: async () => {
      const res = await login(t, user.email, user.password, 'cookie');
      if (res.statusCode !== 200) throw new Error(`cookie login failed: ${res.statusCode} ${res.body}`);
      cookie = res.cookies.find((c) => c.name === '__Host-sid')!.value;
      csrf = res.json().csrfToken;
    },
  };
}

const fixed = (name: string, headers: Record<string, string>): Identity => ({ name, live: false, headers: () => headers, renew: async () => undefined });

/**
 * Credentials an attacker can make: no key (alg none, HS256 keyed with the public key, another
 * RSA key under our kid), a real token with its payload edited, and — signed with the real key,
 * to prove the verifier checks claims, not just signatures — expired, wrong audience/issuer,
 * wrong `typ`, and `sub`/`sid` that are not UUIDs.
 */
export function forgedIdentities(realToken: string, victimId: string): Identity[] {
  const [h, p] = realToken.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string; kid: string };
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  const now = Math.floor(Date.now() / 1000);
  const realKey = createPrivateKey(testSigningKey());
  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const rs256 = (hdr: object, payload: object, key = realKey) => {
    const data = `${encode(hdr)}.${encode(payload)}`;
    return `${data}.${b64url(sign('sha256', Buffer.from(data), key))}`;
  };
  const publicPem = createPublicKey(realKey).export({ type: 'spki', format: 'pem' });
  const hs256 = (payload: object) => {
    const data = `${encode({ alg: 'HS256', typ: 'JWT', kid: header.kid })}.${encode(payload)}`;
    return `${data}.${b64url(createHmac('sha256', publicPem).update(data).digest())}`;
  };
  const asVictim = { ...claims, sub: victimId, sid: randomUUID(), jti: randomUUID() };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  return [
    fixed('anonymous', {}),
    fixed('bearer-garbage', bearer(randomBytes(48).toString('base64url'))),
    fixed('bearer-empty', { authorization: 'Bearer ' }),
    fixed('bearer-scheme-only', { authorization: 'Bearer' }),
    fixed('basic-auth', { authorization: `Basic ${Buffer.from("admin:' OR 1=1 --").toString('base64')}` }),
    fixed('bearer-three-dots', bearer('a.b.c')),
    fixed('bearer-huge', bearer('A'.repeat(16_000))),
    fixed('alg-none', bearer(`${encode({ alg: 'none', typ: 'JWT', kid: header.kid })}.${encode(asVictim)}.`)),
    fixed('alg-none-upper', bearer(`${encode({ alg: 'NONE', typ: 'JWT' })}.${encode(asVictim)}.`)),
    fixed('hs256-with-public-key', bearer(hs256(asVictim))),
    fixed('other-rsa-key-our-kid', bearer(rs256(header, asVictim, otherKey))),
    fixed('unknown-kid', bearer(rs256({ ...header, kid: 'nope' }, asVictim, otherKey))),
    fixed('kid-injection', bearer(rs256({ ...header, kid: "../../../dev/null' OR 1=1 --" }, asVictim))),
    fixed('payload-swapped', bearer(`${h}.${encode(asVictim)}.${realToken.split('.')[2]}`)),
    fixed('signature-stripped', bearer(`${h}.${p}.`)),
    fixed('expired', bearer(rs256(header, { ...claims, iat: now - 7200, exp: now - 3600 }))),
    fixed('not-yet-valid', bearer(rs256(header, { ...claims, nbf: now + 3600 }))),
    fixed('wrong-audience', bearer(rs256(header, { ...claims, aud: 'someone-else' }))),
    fixed('wrong-issuer', bearer(rs256(header, { ...claims, iss: 'https://evil.example' }))),
    fixed('typ-mfa', bearer(rs256(header, { ...claims, typ: 'mfa' }))),
    fixed('sub-not-uuid', bearer(rs256(header, { ...claims, sub: "' OR 1=1 --" }))),
    fixed('sid-not-uuid', bearer(rs256(header, { ...claims, sid: { $ne: null } }))),
    fixed('sub-unknown', bearer(rs256(header, { ...claims, sub: randomUUID(), sid: randomUUID() }))),
    fixed('claims-wrong-types', bearer(rs256(header, { ...claims, exp: 'never', amr: 'pwd', sub: 42 }))),
    fixed('cookie-garbage', { cookie: `__Host-sid=${randomBytes(32).toString('base64url')}`, 'x-csrf-token': randomBytes(16).toString('hex') }),
    fixed('cookie-empty', { cookie: '__Host-sid=' }),
    fixed('cookie-huge', { cookie: `__Host-sid=${'A'.repeat(8000)}` }),
    fixed('cookie-malformed', { cookie: '__Host-sid=%E0%A4%A; __Host-sid=; ;;=;__proto__=1; constructor=x' }),
    fixed('cookie-injection', { cookie: "__Host-sid=' OR 1=1 --", 'x-csrf-token': "' OR 1=1 --" }),
    fixed('cookie-and-bearer-garbage', { cookie: `__Host-sid=${randomBytes(32).toString('base64url')}`, authorization: 'Bearer x' }),
  ];
}
