import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { Client } from 'pg';
import { AppModule } from '../../src/app.module';
import { configureApp, createFastifyAdapter } from '../../src/app.setup';
import { loadConfig } from '../../src/config/app-config';
import { bearer, createUser, em, login, loginTokens } from '../support/auth-helpers';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createTestApp, testEnv, type TestApp } from '../support/test-app';

const PROBLEM = 'application/problem+json';
const WHOAMI = '/api/v1/auth/whoami';
type Json = Record<string, unknown>;

const b64 = (value: Json) => Buffer.from(JSON.stringify(value)).toString('base64url');
const parts = (token: string) => token.split('.');
const decode = (part: string): Json => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/** A JWS signed with an RSA key (RS256, or RS512 when asked). */
function signRsa(header: Json, payload: Json, key: KeyObject, digest: 'sha256' | 'sha512' = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(digest, Buffer.from(input), key).toString('base64url')}`;
}

/** The classic key-confusion forgery: HS256 keyed with the server's public key PEM. */
function signHs256(header: Json, payload: Json, secret: string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

async function countRows(t: TestApp, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await em(t).execute(`SELECT count(*)::int AS n FROM ${sql}`, params);
  return row.n;
}

describe('Bearer access tokens on GET /api/v1/auth/whoami: forgeries are refused', () => {
  let t: TestApp;
  let privateKey: KeyObject;
  let publicPem: string;
  let kid: string;
  let real: { accessToken: string; refreshToken: string };
  let sub: string;
  let sid: string;
  let otherUserId: string;
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

  beforeAll(async () => {
    t = await createTestApp();
    privateKey = createPrivateKey(t.config.jwt.privateKeyPem!);
    publicPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
    const user = await createUser(t);
    otherUserId = (await createUser(t)).id;
    real = await loginTokens(t, user);
    const header = decode(parts(real.accessToken)[0]);
    const payload = decode(parts(real.accessToken)[1]);
    kid = header.kid as string;
    sub = payload.sub as string;
    sid = payload.sid as string;
  });
  afterAll(() => t.close());

  const whoami = (authorization?: string) => t.app.inject({ method: 'GET', url: WHOAMI, headers: authorization === undefined ? {} : { authorization } });
  const header = (over: Json = {}): Json => ({ alg: 'RS256', typ: 'JWT', kid, ...over });
  const claims = (over: Json = {}): Json => {
    const now = Math.floor(Date.now() / 1000);
    return { iss: t.config.jwt.issuer, aud: t.config.jwt.audience, sub, sid, jti: randomUUID(), iat: now, nbf: now, exp: now + 300, auth_time: now, amr: ['pwd'], typ: 'access', ...over };
  };
  const without = (name: string): Json => {
    const c = claims();
    delete c[name];
    return c;
  };

  /** One uniform refusal: 401 problem+json, a Bearer challenge, and nothing about why. */
  async function expectRefused(authorization: string | undefined, challenge = /^Bearer error="invalid_token"$/) {
    const res = await whoami(authorization);
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toContain(PROBLEM);
    expect(res.headers['www-authenticate']).toMatch(challenge);
    const body = res.json();
    expect(body).toMatchObject({ type: 'about:blank', title: 'Unauthorized', status: 401, instance: WHOAMI });
    expect(res.body).not.toMatch(/signature|algorithm|jwt|kid|audience|issuer|malformed|stack/i);
    return body;
  }

  it('ASVS 9.1.1 (control): a token we sign ourselves with the real key and proper claims is accepted, so the refusals below are meaningful', async () => {
    const c = claims();
    const res = await whoami(`Bearer ${signRsa(header(), c, privateKey)}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ userId: sub, sessionId: sid, amr: ['pwd'], roles: ['viewer'], departmentId: null, expiresAt: new Date((c.exp as number) * 1000).toISOString() });
    expect((await whoami(`Bearer ${real.accessToken}`)).statusCode).toBe(200);
  });

  describe('ASVS 9.1.2: algorithm allow-list', () => {
    it.each([
      ['alg none with the real kid', () => `${b64(header({ alg: 'none' }))}.${b64(claims())}.`],
      ['alg none without kid', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`],
      ['alg NONE (case variant)', () => `${b64(header({ alg: 'NONE' }))}.${b64(claims())}.`],
      ['alg none keeping the real signature', () => `${b64(header({ alg: 'none' }))}.${b64(claims())}.${parts(real.accessToken)[2]}`],
      ['HS256 signed with the public key PEM (key confusion)', () => signHs256(header({ alg: 'HS256' }), claims(), publicPem)],
      ['HS256 with the public key PEM and no kid', () => signHs256({ alg: 'HS256', typ: 'JWT' }, claims(), publicPem)],
      ['RS512 with the real key and kid', () => signRsa(header({ alg: 'RS512' }), claims(), privateKey, 'sha512')],
      ['ES256 header on an RSA signature', () => signRsa(header({ alg: 'ES256' }), claims(), privateKey)],
    ])('%s → 401', async (_name, forge) => {
      await expectRefused(`Bearer ${forge()}`);
    });
  });

  describe('ASVS 9.1.1: signature and key binding', () => {
    it('a tampered payload (sub flipped to another user) keeping the original signature → 401', async () => {
      const [h, p, s] = parts(real.accessToken);
      const flipped = b64({ ...decode(p), sub: otherUserId });
      await expectRefused(`Bearer ${h}.${flipped}.${s}`);
    });

    it('a tampered payload adding a second factor to amr → 401', async () => {
      const [h, p, s] = parts(real.accessToken);
      await expectRefused(`Bearer ${h}.${b64({ ...decode(p), amr: ['pwd', 'otp'] })}.${s}`);
    });

    it.each([
      ['an unknown kid, signed with the real key', () => signRsa(header({ kid: 'not-a-known-key' }), claims(), privateKey)],
      ['no kid at all, signed with the real key', () => signRsa({ alg: 'RS256', typ: 'JWT' }, claims(), privateKey)],
      ["a stranger's key presented under the real kid", () => signRsa(header(), claims(), stranger)],
      ["a stranger's key with its own kid", () => signRsa(header({ kid: 'stranger' }), claims(), stranger)],
    ])('%s → 401', async (_name, forge) => {
      await expectRefused(`Bearer ${forge()}`);
    });
  });

  describe('ASVS 9.2.1 / 9.2.3: time validity, audience, issuer and purpose', () => {
    const now = () => Math.floor(Date.now() / 1000);
    it.each([
      ['expired a minute ago', () => claims({ iat: now() - 960, nbf: now() - 960, exp: now() - 60, auth_time: now() - 960 })],
      ['not valid before two minutes from now', () => claims({ nbf: now() + 120 })],
      ['a wrong audience', () => claims({ aud: 'another-app' })],
      ['an audience list without ours', () => claims({ aud: ['another-app', 'yet-another'] })],
      ['no audience', () => without('aud')],
      ['a wrong issuer', () => claims({ iss: 'https://evil.example' })],
      ['no issuer', () => without('iss')],
      ['typ mfa', () => claims({ typ: 'mfa' })],
      ['typ refresh', () => claims({ typ: 'refresh' })],
      ['no typ', () => without('typ')],
      ['no sid', () => without('sid')],
      ['no exp (a token that would never expire)', () => without('exp')],
      ['a sub that is not a user id', () => claims({ sub: 'not-a-uuid' })],
      ['a sub of no existing user', () => claims({ sub: randomUUID() })],
    ])('a token signed with the real key but %s → 401', async (_name, payload) => {
      await expectRefused(`Bearer ${signRsa(header(), payload(), privateKey)}`);
    });

    it('ASVS 7.4.1: a correctly signed token naming a logged-out session → 401', async () => {
      const user = await createUser(t);
      const tokens = await loginTokens(t, user);
      const revokedSid = decode(parts(tokens.accessToken)[1]).sid;
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(tokens.accessToken) })).statusCode).toBe(204);
      await expectRefused(`Bearer ${signRsa(header(), claims({ sub: user.id, sid: revokedSid }), privateKey)}`);
    });
  });

  describe('a signing key that leaked: the session id must name a live session of the subject', () => {
    it('a validly signed token with a random sid → 401, although the subject is cached and its real session works', async () => {
      expect((await whoami(`Bearer ${signRsa(header(), claims(), privateKey)}`)).statusCode).toBe(200);
      await expectRefused(`Bearer ${signRsa(header(), claims({ sid: randomUUID() }), privateKey)}`);
      expect((await whoami(`Bearer ${signRsa(header(), claims(), privateKey)}`)).statusCode).toBe(200);
    });

    it("a validly signed token naming another user's live session → 401; that user's own token still works", async () => {
      const other = await loginTokens(t, await createUser(t));
      const otherSid = decode(parts(other.accessToken)[1]).sid;
      expect((await whoami(`Bearer ${other.accessToken}`)).statusCode).toBe(200);
      await expectRefused(`Bearer ${signRsa(header(), claims({ sid: otherSid }), privateKey)}`);
      expect((await whoami(`Bearer ${other.accessToken}`)).statusCode).toBe(200);
    });

    it('a known session costs no database query (DESIGN: the hot path reads memory only)', async () => {
      const tokens = await loginTokens(t, await createUser(t));
      const own = decode(parts(tokens.accessToken)[1]);
      expect((await whoami(`Bearer ${tokens.accessToken}`)).statusCode).toBe(200);
      const queries: string[] = [];
      const knex = em(t).getKnex();
      const onQuery = (q: { sql: string }) => queries.push(q.sql);
      knex.on('query', onQuery);
      try {
        for (let i = 0; i < 3; i += 1) expect((await whoami(`Bearer ${signRsa(header(), claims({ sub: own.sub, sid: own.sid }), privateKey)}`)).statusCode).toBe(200);
        // The control: an unknown session is looked up (one primary-key read), then refused.
        await expectRefused(`Bearer ${signRsa(header(), claims({ sid: randomUUID() }), privateKey)}`);
      } finally {
        knex.off('query', onQuery);
      }
      expect(queries).toEqual([expect.stringMatching(/^SELECT 1 FROM sessions WHERE id = /)]);
    });
  });

  describe('malformed credentials', () => {
    it.each([
      ['garbage', 'Bearer garbage'],
      ['three garbage segments', 'Bearer a.b.c'],
      ['base64 of non-JSON', `Bearer ${Buffer.from('nope').toString('base64url')}.${Buffer.from('nope').toString('base64url')}.sig`],
      ['two segments', () => `Bearer ${parts(real.accessToken).slice(0, 2).join('.')}`],
      ['an empty bearer value', 'Bearer '],
      ['the scheme alone', 'Bearer'],
      ['a 10 000-character token', `Bearer ${'A'.repeat(10_000)}`],
      ['the token without a scheme', () => real.accessToken],
      ['the token under the Basic scheme', () => `Basic ${real.accessToken}`],
      ['the token under a Token scheme', () => `Token ${real.accessToken}`],
      ['Basic credentials', `Basic ${Buffer.from('user:pass').toString('base64')}`],
      ['the refresh token as a bearer token', () => `Bearer ${real.refreshToken}`],
    ])('%s → 401 problem+json with a Bearer challenge', async (_name, value) => {
      await expectRefused(typeof value === 'function' ? value() : value);
    });

    it('no credentials at all → 401 with WWW-Authenticate: Bearer', async () => {
      const body = await expectRefused(undefined, /^Bearer$/);
      expect(body.detail).toBe('Authentication is required');
    });

    it('every forgery gets the same answer (no oracle on why a token failed)', async () => {
      const bodies = await Promise.all([
        whoami('Bearer garbage'),
        whoami(`Bearer ${b64(header({ alg: 'none' }))}.${b64(claims())}.`),
        whoami(`Bearer ${signRsa(header(), claims({ aud: 'x' }), privateKey)}`),
        whoami(`Bearer ${signRsa(header(), claims({ exp: 1 }), privateKey)}`),
        whoami(`Bearer ${signRsa(header(), claims(), stranger)}`),
      ]);
      const distinct = new Set(bodies.map((r) => `${r.statusCode} ${r.headers['www-authenticate']} ${r.body}`));
      expect(distinct.size).toBe(1);
    });

    it('a 401 on a protected route starts no session and changes nothing', async () => {
      const before = await countRows(t, 'sessions');
      await expectRefused(`Bearer ${signRsa(header(), claims(), stranger)}`);
      expect(await countRows(t, 'sessions')).toBe(before);
    });
  });
});

describe('bootstrap admin (BOOTSTRAP_ADMIN_EMAIL / BOOTSTRAP_ADMIN_PASSWORD)', () => {
  const ADMIN_EMAIL = 'Root.Admin@Example.com';
  const ADMIN_PASSWORD = 'violet tractor humming slowly';
  let database: TestDatabase;
  let db: Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new Client({ connectionString: database.url });
    await db.connect();
  });
  afterAll(async () => {
    await db.end();
    await database.drop();
  });

  /** Boots the app like createTestApp, but hands back the start-up failure and always cleans up. */
  async function startUpError(env: Record<string, string>): Promise<Error> {
    const config = loadConfig(testEnv(database.url, env));
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.register(config)] }).compile();
    const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(config), { bufferLogs: true });
    try {
      await configureApp(app, config);
      await app.init();
    } catch (err) {
      return err as Error;
    } finally {
      await app.close();
    }
    throw new Error('start-up unexpectedly succeeded');
  }

  async function accounts(email: string) {
    const { rows } = await db.query(
      `SELECT u.id, u.email, u.email_verified, u.status, u.password_hash, array_remove(array_agg(r.name), NULL) AS roles
         FROM users u LEFT JOIN user_roles ur ON ur.user_id = u.id LEFT JOIN roles r ON r.id = ur.role_id
        WHERE lower(u.email) = lower($1) GROUP BY u.id`,
      [email],
    );
    return rows;
  }

  const creationEvents = async (userId: string) => (await db.query(`SELECT details FROM audit_events WHERE type = 'user.created' AND target_id = $1`, [userId])).rows;

  it('creates a verified, active admin once; a restart neither duplicates it nor changes its password', async () => {
    const first = await createTestApp({ database, env: { BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL, BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    let admin: { id: string; password_hash: string };
    try {
      const rows = await accounts(ADMIN_EMAIL);
      expect(rows).toHaveLength(1);
      admin = rows[0];
      expect(admin).toMatchObject({ email: 'root.admin@example.com', email_verified: true, status: 'active', roles: ['admin'] });

      const res = await login(first, ADMIN_EMAIL, ADMIN_PASSWORD);
      expect(res.statusCode).toBe(200);
      const who = await first.app.inject({ method: 'GET', url: WHOAMI, headers: bearer(res.json().accessToken) });
      expect(who.json()).toMatchObject({ userId: admin.id, roles: ['admin'] });
      expect(await creationEvents(admin.id)).toEqual([{ details: { email: 'root.admin@example.com', roles: ['admin'], bootstrap: true } }]);
    } finally {
      await first.close();
    }

    const restarted = await createTestApp({ database, env: { BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL, BOOTSTRAP_ADMIN_PASSWORD: 'a different strong passphrase' } });
    try {
      const rows = await accounts(ADMIN_EMAIL);
      expect(rows).toHaveLength(1);
      expect(rows[0].password_hash).toBe(admin.password_hash);
      expect((await login(restarted, ADMIN_EMAIL, ADMIN_PASSWORD)).statusCode).toBe(200);
      expect((await login(restarted, ADMIN_EMAIL, 'a different strong passphrase')).statusCode).toBe(401);
      expect(await creationEvents(admin.id)).toHaveLength(1);
    } finally {
      await restarted.close();
    }
  });

  it('two instances starting at once on the same database create one admin, and both start', async () => {
    // Production-like Argon2 cost keeps both instances between "no admin yet" and the insert at once.
    const env = { BOOTSTRAP_ADMIN_EMAIL: 'twin.admin@example.com', BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD, ARGON2_MEMORY_KIB: '131072', ARGON2_ITERATIONS: '3' };
    const started = await Promise.allSettled([createTestApp({ database, env }), createTestApp({ database, env })]);
    const apps = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    try {
      expect(started.map((s) => (s.status === 'rejected' ? String(s.reason) : 'started'))).toEqual(['started', 'started']);
      const rows = await accounts(env.BOOTSTRAP_ADMIN_EMAIL);
      expect(rows).toHaveLength(1);
      expect(rows[0].roles).toEqual(['admin']);
      expect(await creationEvents(rows[0].id)).toHaveLength(1);
      expect((await login(apps[1], env.BOOTSTRAP_ADMIN_EMAIL, ADMIN_PASSWORD)).statusCode).toBe(200);
    } finally {
      for (const app of apps) await app.close();
    }
  });

  it.each([
    ['too short', 'Sh0rt!pass', /^BOOTSTRAP_ADMIN_PASSWORD: .*at least 12 characters/],
    ['containing the email', 'weak.admin-is-my-password', /^BOOTSTRAP_ADMIN_PASSWORD: .*must not contain your email/],
  ])('ASVS 6.2.1: a weak bootstrap password (%s) stops start-up with a clear message and creates nobody', async (_name, password, message) => {
    const error = await startUpError({ BOOTSTRAP_ADMIN_EMAIL: 'weak.admin@example.com', BOOTSTRAP_ADMIN_PASSWORD: password });
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(password);
    expect(await accounts('weak.admin@example.com')).toHaveLength(0);
  });
});
