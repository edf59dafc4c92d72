import { EntityManager as SqlEntityManager } from '@mikro-orm/postgresql';
import { hash as argon2Hash } from '@node-rs/argon2';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { bearer, createUser, em, login, STRONG_PASSWORD, uniqueEmail } from '../support/auth-helpers';
import { createTestApp, type TestApp } from '../support/test-app';

const PROBLEM = 'application/problem+json';
const LOGIN = '/api/v1/auth/login';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
type Response = Awaited<ReturnType<typeof login>>;

interface AuditRow {
  type: string;
  outcome: string;
  actor_id: string | null;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
  return { header, payload };
}

function audit(t: TestApp, type: string, targetId?: string): Promise<AuditRow[]> {
  const filter = targetId ? ' AND target_id = ?' : '';
  return em(t).execute(
    `SELECT type, outcome, actor_id, target_type, target_id, ip, user_agent, request_id, details FROM audit_events WHERE type = ?${filter} ORDER BY at, id`,
    targetId ? [type, targetId] : [type],
  );
}

async function countRows(t: TestApp, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await em(t).execute(`SELECT count(*)::int AS n FROM ${sql}`, params);
  return row.n;
}

/** What a client can observe about a refusal, minus what legitimately differs per request. */
function observable(res: Response) {
  const varying = new Set(['date', 'x-request-id', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-ratelimit-remaining-auth', 'x-ratelimit-reset-auth']);
  const headers = Object.fromEntries(Object.entries(res.headers).filter(([name]) => !varying.has(name)));
  return { status: res.statusCode, headers, headerNames: Object.keys(res.headers).sort(), body: res.body };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

async function timed(fn: () => Promise<Response>): Promise<{ ms: number; res: Response }> {
  const start = process.hrtime.bigint();
  const res = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, res };
}

async function lockNow(t: TestApp, userId: string): Promise<void> {
  await em(t).execute(`UPDATE users SET locked_until = now() + interval '15 minutes', lock_count = 1 WHERE id = ?`, [userId]);
}

describe('POST /api/v1/auth/login', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  describe('success', () => {
    it('ASVS 6.3.1 / 16.3.1: a right password answers exactly {accessToken, refreshToken, tokenType, expiresIn} and audits auth.login.succeeded', async () => {
      const user = await createUser(t);
      const res = await t.app.inject({ method: 'POST', url: LOGIN, payload: { email: user.email, password: user.password }, headers: { 'user-agent': 'login-e2e/1.0' } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('application/json');
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(['accessToken', 'expiresIn', 'refreshToken', 'tokenType']);
      expect(body).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String), tokenType: 'Bearer', expiresIn: 900 });
      // Opaque, >= 256 random bits (43 base64url characters), and not a JWT.
      expect(body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43,}$/);

      const rows = await audit(t, 'auth.login.succeeded', user.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        outcome: 'success',
        actor_id: user.id,
        target_type: 'User',
        ip: '127.0.0.1',
        user_agent: 'login-e2e/1.0',
        request_id: res.headers['x-request-id'],
        details: { amr: ['pwd'], mode: 'bearer', sessionId: JSON.parse(Buffer.from(body.accessToken.split('.')[1], 'base64url').toString()).sid },
      });
      // Written in the statement that wrote the session: the one names the other.
      expect(Object.keys(rows[0].details as object).sort()).toEqual(['amr', 'mode', 'sessionId']);
    });

    it('ASVS 9.1.1 / 9.1.2: the access token is an RS256 JWS with the published kid and the contract claims', async () => {
      const user = await createUser(t);
      const before = Math.floor(Date.now() / 1000);
      const res = await login(t, user.email, user.password);
      const after = Math.ceil(Date.now() / 1000);
      expect(res.statusCode).toBe(200);
      const { accessToken } = res.json();
      const { header, payload } = decodeJwt(accessToken);

      const jwksRes = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      const jwks = jwksRes.json() as JSONWebKeySet;
      expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: jwks.keys[0].kid });

      expect(payload).toEqual({
        iss: 'http://localhost:3000',
        aud: 'bastion',
        sub: user.id,
        sid: expect.stringMatching(UUID),
        jti: expect.any(String),
        iat: expect.any(Number),
        nbf: expect.any(Number),
        exp: expect.any(Number),
        auth_time: expect.any(Number),
        amr: ['pwd'],
        typ: 'access',
      });
      const iat = payload.iat as number;
      expect(iat).toBeGreaterThanOrEqual(before);
      expect(iat).toBeLessThanOrEqual(after);
      expect((payload.exp as number) - iat).toBe(900);
      expect(payload.auth_time).toBe(iat);
      expect((payload.jti as string).length).toBeGreaterThanOrEqual(22);

      // Any internal app verifies it with the published keys alone, pinning alg, iss and aud.
      const verified = await jwtVerify(accessToken, createLocalJWKSet(jwks), { algorithms: ['RS256'], issuer: 'http://localhost:3000', audience: 'bastion' });
      expect(verified.payload.sub).toBe(user.id);

      const [session] = await em(t).execute('SELECT user_id, amr, revoked_at FROM sessions WHERE id = ?', [payload.sid]);
      expect(session).toEqual({ user_id: user.id, amr: ['pwd'], revoked_at: null });
    });

    it('ASVS 7.2.4: every login starts a new session (new sid, jti and refresh token)', async () => {
      const user = await createUser(t);
      const logins = [];
      for (let i = 0; i < 3; i++) {
        const res = await login(t, user.email, user.password);
        expect(res.statusCode).toBe(200);
        logins.push(res.json());
      }
      const claims = logins.map((l) => decodeJwt(l.accessToken).payload);
      expect(new Set(claims.map((c) => c.sid)).size).toBe(3);
      expect(new Set(claims.map((c) => c.jti)).size).toBe(3);
      expect(new Set(logins.map((l) => l.refreshToken)).size).toBe(3);
      expect(await countRows(t, 'sessions WHERE user_id = ? AND revoked_at IS NULL', [user.id])).toBe(3);
      for (const [i, l] of logins.entries()) {
        const who = await t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: bearer(l.accessToken) });
        expect(who.statusCode).toBe(200);
        expect(who.json()).toMatchObject({ userId: user.id, sessionId: claims[i].sid, amr: ['pwd'] });
      }
    });

    it('normalises the email (trim, case) before looking the account up', async () => {
      const user = await createUser(t);
      const res = await login(t, `  ${user.email.toUpperCase()} `, user.password);
      expect(res.statusCode).toBe(200);
      expect(decodeJwt(res.json().accessToken).payload.sub).toBe(user.id);
    });

    it('?mode=cookie answers {csrfToken, expiresIn} and sets the __Host-sid cookie instead of tokens', async () => {
      const user = await createUser(t);
      const res = await login(t, user.email, user.password, 'cookie');
      expect(res.statusCode).toBe(200);
      expect(Object.keys(res.json()).sort()).toEqual(['csrfToken', 'expiresIn']);
      const cookie = String(res.headers['set-cookie']);
      expect(cookie).toMatch(/^__Host-sid=[A-Za-z0-9_-]{43,};/);
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/Secure/);
      expect(cookie).toMatch(/SameSite=Strict/);
      expect(cookie).toMatch(/Path=\//);
    });
  });

  describe('ASVS 6.3.8: no account enumeration', () => {
    it('unknown email, wrong password and a locked account (even with the right password) answer the identical 401', async () => {
      const user = await createUser(t);
      const locked = await createUser(t);
      await lockNow(t, locked.id);
      const pending = await createUser(t, { status: 'pending', emailVerified: false });
      const disabled = await createUser(t, { status: 'disabled' });

      const wrong = await login(t, user.email, 'not the right password');
      const unknown = await login(t, uniqueEmail('nobody'), 'not the right password');
      const lockedRight = await login(t, locked.email, locked.password);
      const lockedWrong = await login(t, locked.email, 'not the right password');
      const pendingWrong = await login(t, pending.email, 'not the right password');
      const disabledWrong = await login(t, disabled.email, 'not the right password');

      expect(wrong.statusCode).toBe(401);
      expect(wrong.headers['content-type']).toContain(PROBLEM);
      expect(wrong.json()).toEqual({ type: 'about:blank', title: 'Invalid credentials', status: 401, detail: 'Invalid credentials', instance: LOGIN });
      for (const other of [unknown, lockedRight, lockedWrong, pendingWrong, disabledWrong]) {
        expect(observable(other)).toEqual(observable(wrong));
      }
      // Nothing was started for the locked account, though its password was right.
      expect(await countRows(t, 'sessions WHERE user_id = ?', [locked.id])).toBe(0);
    });

    it('unknown email, wrong password and locked account take the same time: the dummy Argon2 hash runs', async () => {
      const strong = await createTestApp({
        database: t.database,
        env: { ARGON2_MEMORY_KIB: '32768', ARGON2_ITERATIONS: '2', LOCKOUT_THRESHOLD: '1000' },
      });
      try {
        const user = await createUser(strong);
        const locked = await createUser(strong);
        await lockNow(strong, locked.id);
        const kinds = {
          unknown: () => login(strong, uniqueEmail('ghost'), 'some wrong password'),
          wrong: () => login(strong, user.email, 'some wrong password'),
          locked: () => login(strong, locked.email, locked.password),
        };
        // Warm-up: the first unknown-email login also makes the dummy hash.
        for (const fn of Object.values(kinds)) expect((await fn()).statusCode).toBe(401);

        const samples: Record<keyof typeof kinds, number[]> = { unknown: [], wrong: [], locked: [] };
        const order = Object.keys(kinds) as (keyof typeof kinds)[];
        for (let round = 0; round < 10; round++) {
          for (let i = 0; i < order.length; i++) {
            const kind = order[(round + i) % order.length];
            const { ms, res } = await timed(kinds[kind]);
            expect(res.statusCode).toBe(401);
            samples[kind].push(ms);
          }
        }
        const unknown = median(samples.unknown);
        const wrong = median(samples.wrong);
        const lockedMs = median(samples.locked);
        expect(unknown / wrong).toBeGreaterThan(0.5);
        expect(unknown / wrong).toBeLessThan(2);
        expect(lockedMs / wrong).toBeGreaterThan(0.5);
        expect(lockedMs / wrong).toBeLessThan(2);
      } finally {
        await strong.close();
      }
    }, 60_000);
  });

  describe('account state (right password only)', () => {
    it('a disabled account answers 403 urn:bastion:problem:account-disabled and starts no session', async () => {
      const user = await createUser(t, { status: 'disabled' });
      const res = await login(t, user.email, user.password);
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toContain(PROBLEM);
      expect(res.json()).toMatchObject({ type: 'urn:bastion:problem:account-disabled', status: 403, title: 'Account disabled' });
      expect(await countRows(t, 'sessions WHERE user_id = ?', [user.id])).toBe(0);
      const [row] = await audit(t, 'auth.login.failed', user.id);
      expect(row.details).toMatchObject({ reason: 'disabled' });
    });

    it('an unverified account answers 403 urn:bastion:problem:email-not-verified and starts no session', async () => {
      const user = await createUser(t, { status: 'pending', emailVerified: false });
      const res = await login(t, user.email, user.password);
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toContain(PROBLEM);
      expect(res.json()).toMatchObject({ type: 'urn:bastion:problem:email-not-verified', status: 403, title: 'Email not verified' });
      expect(await countRows(t, 'sessions WHERE user_id = ?', [user.id])).toBe(0);
      const [row] = await audit(t, 'auth.login.failed', user.id);
      expect(row.details).toMatchObject({ reason: 'email_not_verified' });
    });
  });

  describe('a database outage', () => {
    it('during the password check answers 503 problem+json with Retry-After — never "Invalid credentials" — and counts no failure', async () => {
      const user = await createUser(t);
      const outage = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
      // The first statement of the request (the account lookup) meets a dropped connection.
      const execute = jest.spyOn(SqlEntityManager.prototype, 'execute').mockRejectedValueOnce(outage);
      let res: Response;
      try {
        res = await login(t, user.email, user.password);
      } finally {
        execute.mockRestore();
      }
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toContain(PROBLEM);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toMatchObject({ status: 503, title: 'Service Unavailable' });
      expect(await audit(t, 'auth.login.failed', user.id)).toEqual([]);
      expect(await countRows(t, 'sessions WHERE user_id = ?', [user.id])).toBe(0);
      const [state] = await em(t).execute('SELECT failed_login_count FROM users WHERE id = ?', [user.id]);
      expect(state.failed_login_count).toBe(0);
      // And the next attempt, with the database back, signs in.
      expect((await login(t, user.email, user.password)).statusCode).toBe(200);
    });
  });

  describe('input validation runs before the credential check', () => {
    const valid = { email: 'someone@example.com', password: 'whatever password' };
    const cases: [string, { payload?: unknown; headers?: Record<string, string>; url?: string }][] = [
      ['an empty object', { payload: {} }],
      ['a missing password', { payload: { email: valid.email } }],
      ['a missing email', { payload: { password: valid.password } }],
      ['a numeric email', { payload: { email: 12345, password: valid.password } }],
      ['an object as email (operator injection)', { payload: { email: { $ne: null }, password: valid.password } }],
      ['an array as email', { payload: { email: [valid.email], password: valid.password } }],
      ['a numeric password', { payload: { email: valid.email, password: 123456789012 } }],
      ['a null password', { payload: { email: valid.email, password: null } }],
      ['an empty password', { payload: { email: valid.email, password: '' } }],
      ['an extra field', { payload: { ...valid, rememberMe: true } }],
      ['an invalid email', { payload: { email: 'not-an-email', password: valid.password } }],
      ['an over-long email', { payload: { email: `${'a'.repeat(250)}@example.com`, password: valid.password } }],
      ['a 10 000-character password', { payload: { email: valid.email, password: 'p'.repeat(10_000) } }],
      ['a JSON array body', { payload: '[]', headers: { 'content-type': 'application/json' } }],
      ['a JSON string body', { payload: '"email"', headers: { 'content-type': 'application/json' } }],
      ['a JSON null body', { payload: 'null', headers: { 'content-type': 'application/json' } }],
      ['a JSON number body', { payload: '42', headers: { 'content-type': 'application/json' } }],
      ['a text/plain body', { payload: 'email=a@b.c&password=x', headers: { 'content-type': 'text/plain' } }],
      ['no body at all', {}],
      ['?mode=bogus', { payload: valid, url: `${LOGIN}?mode=bogus` }],
      ['an unknown query parameter', { payload: valid, url: `${LOGIN}?remember=1` }],
    ];

    it.each(cases)('ASVS 6.3.8: %s → 400 problem+json, not 401', async (_name, { payload, headers, url }) => {
      const res = await t.app.inject({ method: 'POST', url: url ?? LOGIN, payload: payload as string | object | undefined, headers });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain(PROBLEM);
      const body = res.json();
      expect(body).toMatchObject({ type: 'urn:bastion:problem:validation', status: 400 });
      expect(body.errors.length).toBeGreaterThan(0);
    });

    it('malformed JSON → 400 problem+json', async () => {
      const res = await t.app.inject({ method: 'POST', url: LOGIN, payload: '{"email": ', headers: { 'content-type': 'application/json' } });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain(PROBLEM);
    });

    it('ASVS 16.3.1: rejected input is not a login attempt: no auth.login.failed row, no lockout count, no session', async () => {
      const user = await createUser(t);
      const bad = [
        { email: user.email, password: 'x'.repeat(10_000) },
        { email: user.email, password: 42 },
        { email: user.email, password: user.password, extra: 1 },
        { email: user.email },
      ];
      for (const payload of bad) {
        for (let i = 0; i < 2; i++) expect((await t.app.inject({ method: 'POST', url: LOGIN, payload })).statusCode).toBe(400);
      }
      const bogusMode = await t.app.inject({ method: 'POST', url: `${LOGIN}?mode=bogus`, payload: { email: user.email, password: user.password } });
      expect(bogusMode.statusCode).toBe(400);

      expect(await audit(t, 'auth.login.failed', user.id)).toHaveLength(0);
      const byEmail = await em(t).execute(`SELECT count(*)::int AS n FROM audit_events WHERE type LIKE 'auth.%' AND details->>'email' = ?`, [user.email]);
      expect(byEmail[0].n).toBe(0);
      expect(await audit(t, 'auth.login.succeeded', user.id)).toHaveLength(0);
      const [row] = await em(t).execute('SELECT failed_login_count, locked_until FROM users WHERE id = ?', [user.id]);
      expect(row).toEqual({ failed_login_count: 0, locked_until: null });
      expect(await countRows(t, 'sessions WHERE user_id = ?', [user.id])).toBe(0);
    });
  });

  describe('ASVS 16.3.1 / 16.3.2: audit trail of login attempts', () => {
    it('records every outcome with its reason and never a password or hash', async () => {
      const user = await createUser(t, { password: 'audit-right-password-1' });
      const locked = await createUser(t, { password: 'audit-locked-password-2' });
      await lockNow(t, locked.id);
      const disabled = await createUser(t, { status: 'disabled', password: 'audit-disabled-password-3' });
      const unknownEmail = uniqueEmail('unknown');
      const secrets = ['audit-right-password-1', 'audit-wrong-password-4', 'audit-locked-password-2', 'audit-disabled-password-3', 'audit-unknown-password-5'];

      expect((await login(t, user.email, 'audit-wrong-password-4')).statusCode).toBe(401);
      expect((await login(t, unknownEmail, 'audit-unknown-password-5')).statusCode).toBe(401);
      expect((await login(t, locked.email, 'audit-locked-password-2')).statusCode).toBe(401);
      expect((await login(t, disabled.email, 'audit-disabled-password-3')).statusCode).toBe(403);
      const ok = await login(t, user.email, 'audit-right-password-1');
      expect(ok.statusCode).toBe(200);

      const reasonOf = async (targetId: string) => (await audit(t, 'auth.login.failed', targetId)).map((r) => r.details.reason);
      expect(await reasonOf(user.id)).toEqual(['wrong_password']);
      expect(await reasonOf(locked.id)).toEqual(['locked']);
      expect(await reasonOf(disabled.id)).toEqual(['disabled']);
      const [wrongRow] = await audit(t, 'auth.login.failed', user.id);
      expect(wrongRow).toMatchObject({ outcome: 'failure', actor_id: user.id, target_type: 'User', ip: '127.0.0.1', details: { email: user.email, reason: 'wrong_password', method: 'password' } });
      const unknownRows: AuditRow[] = await em(t).execute(`SELECT * FROM audit_events WHERE type = 'auth.login.failed' AND details->>'email' = ?`, [unknownEmail]);
      expect(unknownRows).toHaveLength(1);
      expect(unknownRows[0]).toMatchObject({ outcome: 'failure', actor_id: null, target_id: null, details: { reason: 'unknown_email' } });
      expect(await audit(t, 'auth.login.succeeded', user.id)).toHaveLength(1);

      // No secret anywhere in the audit table, whatever the column.
      const everything: { row: string }[] = await em(t).execute('SELECT row_to_json(a)::text AS row FROM audit_events a');
      const dump = everything.map((r) => r.row).join('\n');
      for (const secret of [...secrets, STRONG_PASSWORD]) expect(dump).not.toContain(secret);
      expect(dump).not.toContain('$argon2');
      expect(dump).not.toContain(ok.json().refreshToken);
      expect(dump).not.toContain(ok.json().accessToken.split('.')[2]);
    });
  });

  describe('rehash on login', () => {
    it('a hash made with weaker Argon2 parameters is replaced with the configured ones at the next successful login', async () => {
      const strong = await createTestApp({ database: t.database, env: { ARGON2_MEMORY_KIB: '19456', ARGON2_ITERATIONS: '2' } });
      try {
        const email = uniqueEmail('legacy');
        const password = 'an old but good passphrase';
        const weakHash = await argon2Hash(password, { memoryCost: 8192, timeCost: 1, parallelism: 1 });
        expect(weakHash).toMatch(/^\$argon2id\$v=19\$m=8192,t=1,p=1\$/);
        const [row] = await em(strong).execute(
          `INSERT INTO users (id, email, display_name, email_verified, status, password_hash) VALUES (gen_random_uuid(), ?, 'Legacy', true, 'active', ?) RETURNING id`,
          [email, weakHash],
        );
        const storedHash = async () => (await em(strong).execute('SELECT password_hash FROM users WHERE id = ?', [row.id]))[0].password_hash as string;

        expect((await login(strong, email, 'a wrong passphrase here')).statusCode).toBe(401);
        expect(await storedHash()).toBe(weakHash);

        expect((await login(strong, email, password)).statusCode).toBe(200);
        const rehashed = await storedHash();
        expect(rehashed).not.toBe(weakHash);
        expect(rehashed).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

        // The new hash still verifies the password, and a current hash is not rehashed again.
        expect((await login(strong, email, password)).statusCode).toBe(200);
        expect(await storedHash()).toBe(rehashed);
      } finally {
        await strong.close();
      }
    });
  });
});
