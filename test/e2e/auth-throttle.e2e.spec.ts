import { randomBytes } from 'node:crypto';
import { createUser, em, uniqueEmail } from '../support/auth-helpers';
import { createTestApp, type TestApp } from '../support/test-app';

const PROBLEM = 'application/problem+json';
const LOGIN = '/api/v1/auth/login';
const WRONG = 'definitely not the password';

function attempt(t: TestApp, remoteAddress: string, email: string, password = WRONG, headers: Record<string, string> = {}) {
  return t.app.inject({ method: 'POST', url: LOGIN, payload: { email, password }, remoteAddress, headers });
}

/** A public route under the general limit (the health probes and /metrics are exempt). */
function live(t: TestApp, remoteAddress = '127.0.0.1') {
  return t.app.inject({ method: 'GET', url: '/.well-known/jwks.json', remoteAddress });
}

/** The 429 of API.md: problem+json, type rate-limited, and a whole number of seconds to wait. */
function expectRateLimited(res: Awaited<ReturnType<typeof live>>, ttlSeconds = 60): void {
  expect(res.statusCode).toBe(429);
  expect(res.headers['content-type']).toContain(PROBLEM);
  expect(res.json()).toMatchObject({ type: 'urn:bastion:problem:rate-limited', title: 'Too Many Requests', status: 429 });
  const retryAfter = String(res.headers['retry-after']);
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(retryAfter)).toBeLessThanOrEqual(ttlSeconds);
}

async function auditCount(t: TestApp, sql: string, params: unknown[]): Promise<number> {
  const [row] = await em(t).execute(`SELECT count(*)::int AS n FROM audit_events WHERE ${sql}`, params);
  return row.n;
}

async function untilReady(t: TestApp): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await t.app.inject({ method: 'GET', url: '/health/ready' })).statusCode !== 200) {
    if (Date.now() > deadline) throw new Error('/health/ready did not turn 200 (is Redis reachable?)');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('rate limits (THROTTLE_TTL / THROTTLE_LIMIT / THROTTLE_AUTH_LIMIT)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { THROTTLE_AUTH_LIMIT: '3', THROTTLE_TTL: '60' } });
  });
  afterAll(() => t.close());

  describe('THROTTLE_AUTH_LIMIT=3 on the login route', () => {
    it('ASVS 6.3.1: the 4th login from one IP within the window → 429 problem+json with a numeric Retry-After, before any credential check', async () => {
      const ip = '10.0.0.1';
      const user = await createUser(t);
      expect((await attempt(t, ip, user.email)).statusCode).toBe(401);
      expect((await attempt(t, ip, user.email)).statusCode).toBe(401);
      expect((await attempt(t, ip, user.email, user.password)).statusCode).toBe(200);

      const fourth = await attempt(t, ip, user.email, user.password);
      expectRateLimited(fourth);
      // The refusal happens before passport: no hash, no audit of an attempt, no session, no lockout count.
      expect(await auditCount(t, `type = 'auth.login.failed' AND target_id = ?`, [user.id])).toBe(2);
      expect(await auditCount(t, `type = 'auth.login.succeeded' AND target_id = ?`, [user.id])).toBe(1);
      const [sessions] = await em(t).execute('SELECT count(*)::int AS n FROM sessions WHERE user_id = ?', [user.id]);
      expect(sessions.n).toBe(1);

      // Blocked is blocked, whatever the body: an unknown email and an invalid body get the same 429.
      const unknown = await attempt(t, ip, uniqueEmail('nobody'));
      expectRateLimited(unknown);
      expect(unknown.body).toBe(fourth.body);
      expectRateLimited(await t.app.inject({ method: 'POST', url: LOGIN, payload: { nope: true }, remoteAddress: ip }));
    });

    it('the budget is per client IP: another address still gets its own 3 attempts', async () => {
      const user = await createUser(t);
      for (let i = 0; i < 4; i++) await attempt(t, '10.0.0.2', user.email);
      expectRateLimited(await attempt(t, '10.0.0.2', user.email));
      for (let i = 0; i < 3; i++) expect((await attempt(t, '10.0.0.3', user.email)).statusCode).toBe(401);
      expectRateLimited(await attempt(t, '10.0.0.3', user.email));
    });

    it('without TRUST_PROXY a spoofed X-Forwarded-For neither buys a fresh budget nor changes the audited IP', async () => {
      const user = await createUser(t);
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await attempt(t, '10.0.0.4', user.email, WRONG, { 'x-forwarded-for': `203.0.113.${i + 1}` })).statusCode);
      expect(statuses).toEqual([401, 401, 401, 429]);
      const ips: { ip: string }[] = await em(t).execute(`SELECT DISTINCT ip FROM audit_events WHERE type = 'auth.login.failed' AND target_id = ?`, [user.id]);
      expect(ips).toEqual([{ ip: '10.0.0.4' }]);
    });

    it('ASVS 6.3.1: the credential routes share ONE budget per IP: 2 logins + 1 forgot-password use it up, then register, refresh and login are 429', async () => {
      const ip = '10.0.0.6';
      const user = await createUser(t);
      expect((await attempt(t, ip, user.email)).statusCode).toBe(401);
      expect((await attempt(t, ip, user.email)).statusCode).toBe(401);
      const forgot = await t.app.inject({ method: 'POST', url: '/api/v1/auth/password/forgot', payload: { email: user.email }, remoteAddress: ip });
      expect(forgot.statusCode).toBe(202);
      // A route of its own would have a fresh budget of 3 here; the shared one is spent.
      expectRateLimited(
        await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: uniqueEmail(), password: 'a long enough passphrase', displayName: 'X' }, remoteAddress: ip }),
      );
      expectRateLimited(await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: 'x'.repeat(43) }, remoteAddress: ip }));
      expectRateLimited(await attempt(t, ip, user.email, user.password));
      // Another IP still has its own whole budget.
      expect((await attempt(t, '10.0.0.7', user.email, user.password)).statusCode).toBe(200);
    });

    it('routes not marked @AuthThrottled() are not limited by THROTTLE_AUTH_LIMIT', async () => {
      const ip = '10.0.0.5';
      for (let i = 0; i < 4; i++) await attempt(t, ip, uniqueEmail());
      expectRateLimited(await attempt(t, ip, uniqueEmail()));
      for (let i = 0; i < 10; i++) expect((await live(t, ip)).statusCode).toBe(200);
    });
  });

  describe('THROTTLE_LIMIT=5 on every route', () => {
    let limited: TestApp;
    beforeAll(async () => {
      limited = await createTestApp({ database: t.database, env: { THROTTLE_LIMIT: '5', THROTTLE_TTL: '60' } });
    });
    afterAll(() => limited.close());

    it('the 6th GET of a public route from one IP → 429 problem+json with Retry-After; another IP is unaffected', async () => {
      for (let i = 0; i < 5; i++) expect((await live(limited, '10.1.0.1')).statusCode).toBe(200);
      expectRateLimited(await live(limited, '10.1.0.1'));
      expect((await live(limited, '10.1.0.2')).statusCode).toBe(200);
    });

    it('guard order: the rate limit runs before authentication, which runs before policies (anonymous: 401 ×5, then 429)', async () => {
      const anonymous = () => limited.app.inject({ method: 'GET', url: '/api/v1/roles', remoteAddress: '10.1.0.4' });
      for (let i = 0; i < 5; i++) {
        // 401, not 403: authentication answered before the policy guard could.
        expect((await anonymous()).statusCode).toBe(401);
      }
      expectRateLimited(await anonymous());
    });

    it('health probes and /metrics are never rate limited (a liveness check must not depend on Redis)', async () => {
      for (let i = 0; i < 12; i++) {
        expect((await limited.app.inject({ method: 'GET', url: '/health/live', remoteAddress: '10.1.0.3' })).statusCode).toBe(200);
        expect((await limited.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '10.1.0.3' })).statusCode).toBe(200);
      }
    });
  });

  describe('TRUST_PROXY=true', () => {
    let proxied: TestApp;
    beforeAll(async () => {
      proxied = await createTestApp({ database: t.database, env: { TRUST_PROXY: 'true', THROTTLE_AUTH_LIMIT: '3', THROTTLE_TTL: '60' } });
    });
    afterAll(() => proxied.close());

    it('X-Forwarded-For is the client IP: two forwarded clients behind one proxy each get their own budget, and the audit names them', async () => {
      const user = await createUser(proxied);
      for (const client of ['198.51.100.7', '198.51.100.8']) {
        const statuses = [];
        for (let i = 0; i < 4; i++) statuses.push((await attempt(proxied, '10.9.9.9', user.email, WRONG, { 'x-forwarded-for': client })).statusCode);
        expect(statuses).toEqual([401, 401, 401, 429]);
      }
      const ips: { ip: string }[] = await em(proxied).execute(`SELECT DISTINCT ip FROM audit_events WHERE type = 'auth.login.failed' AND target_id = ? ORDER BY ip`, [user.id]);
      expect(ips).toEqual([{ ip: '198.51.100.7' }, { ip: '198.51.100.8' }]);
    });
  });

  describe('two instances on the same database and REDIS_KEY_PREFIX', () => {
    let a: TestApp;
    let b: TestApp;
    beforeAll(async () => {
      const env = { THROTTLE_AUTH_LIMIT: '3', THROTTLE_TTL: '60', REDIS_KEY_PREFIX: `bastion-test:shared-${randomBytes(4).toString('hex')}:` };
      [a, b] = await Promise.all([createTestApp({ database: t.database, env }), createTestApp({ database: t.database, env })]);
      await Promise.all([untilReady(a), untilReady(b)]);
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
    });

    if (process.env.REDIS_URL) {
      it('with REDIS_URL the login counter is shared: 2 attempts on A + 2 on B → the 4th is 429, on either instance', async () => {
        const email = uniqueEmail();
        expect((await attempt(a, '10.2.0.1', email)).statusCode).toBe(401);
        expect((await attempt(a, '10.2.0.1', email)).statusCode).toBe(401);
        expect((await attempt(b, '10.2.0.1', email)).statusCode).toBe(401);
        expectRateLimited(await attempt(b, '10.2.0.1', email));
        expectRateLimited(await attempt(a, '10.2.0.1', email));
      });
    } else {
      it('without REDIS_URL each instance counts on its own (API.md: only rate limits become per instance)', async () => {
        const email = uniqueEmail();
        expect((await attempt(a, '10.2.0.1', email)).statusCode).toBe(401);
        expect((await attempt(a, '10.2.0.1', email)).statusCode).toBe(401);
        expect((await attempt(b, '10.2.0.1', email)).statusCode).toBe(401);
        expect((await attempt(b, '10.2.0.1', email)).statusCode).toBe(401);
        expect((await attempt(a, '10.2.0.1', email)).statusCode).toBe(401);
        expectRateLimited(await attempt(a, '10.2.0.1', email));
      });
    }
  });

  describe('REDIS_URL pointing at a closed port', () => {
    it('starts, serves and rate limits on local counters: no hang, no 500, and shuts down promptly', async () => {
      const started = Date.now();
      const down = await createTestApp({ database: t.database, env: { REDIS_URL: 'redis://127.0.0.1:1', THROTTLE_AUTH_LIMIT: '3', THROTTLE_TTL: '60' } });
      let closed = false;
      try {
        expect(Date.now() - started).toBeLessThan(10_000);
        expect((await live(down)).statusCode).toBe(200);
        expect((await down.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503);

        const user = await createUser(down);
        const slowest = { ms: 0 };
        const timedAttempt = async (email: string, password?: string) => {
          const begin = Date.now();
          const res = await attempt(down, '10.3.0.1', email, password);
          slowest.ms = Math.max(slowest.ms, Date.now() - begin);
          return res;
        };
        // An unknown email also exercises the lockout's Redis counter and its in-memory fallback.
        expect((await timedAttempt(uniqueEmail('ghost'))).statusCode).toBe(401);
        expect((await timedAttempt(user.email)).statusCode).toBe(401);
        expect((await timedAttempt(user.email, user.password)).statusCode).toBe(200);
        expectRateLimited(await timedAttempt(user.email, user.password));
        expect(slowest.ms).toBeLessThan(2000);
        expect((await attempt(down, '10.3.0.2', uniqueEmail('ghost'))).statusCode).toBe(401);

        const metrics = await down.app.inject({ method: 'GET', url: '/metrics' });
        const fallbacks = Number(/^bastion_rate_limit_fallback_total (\d+)/m.exec(metrics.body)?.[1]);
        expect(fallbacks).toBeGreaterThanOrEqual(5);

        const closing = Date.now();
        await down.close();
        closed = true;
        expect(Date.now() - closing).toBeLessThan(5000);
      } finally {
        if (!closed) await down.close();
      }
    });
  });
});
