import { decode } from 'jsonwebtoken';
import { Client } from 'pg';
import { CHANGE_CHANNEL } from '../../src/database/change-feed/change-event';
import { ChangeFeed } from '../../src/database/change-feed/change-feed.service';
import { bearer, createUser, em, login, loginTokens, STRONG_PASSWORD, type CreatedUser } from '../support/auth-helpers';
import { createTestApp, type TestApp } from '../support/test-app';

interface Pair {
  accessToken: string;
  refreshToken: string;
}

const COOKIE = '__Host-sid';
const POLL_MS = 50;
const SLA_MS = 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sidOf = (accessToken: string) => (decode(accessToken) as { sid: string }).sid;

type Credential = { accessToken: string } | { cookie: string };
const headersFor = (c: Credential) => ('accessToken' in c ? bearer(c.accessToken) : { cookie: `${COOKIE}=${c.cookie}` });
const whoami = (t: TestApp, c: Credential) => t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: headersFor(c) });

/**
 * Polls `t` every 50 ms until the credential is refused; returns the milliseconds since `since`
 * (Infinity when it was still accepted after 3 s).
 */
async function refusedAfter(t: TestApp, c: Credential, since: number): Promise<number> {
  for (;;) {
    const res = await whoami(t, c);
    if (res.statusCode === 401) return Date.now() - since;
    expect(res.statusCode).toBe(200);
    if (Date.now() - since > 3000) return Infinity;
    await sleep(POLL_MS);
  }
}

/** Asserts that `t` keeps refusing the credential for a while (no cache brings it back). */
async function staysRefused(t: TestApp, c: Credential, forMs = 300): Promise<void> {
  const end = Date.now() + forMs;
  while (Date.now() < end) {
    expect((await whoami(t, c)).statusCode).toBe(401);
    await sleep(POLL_MS);
  }
}

describe('Revocation reaches every instance within 1 s (ASVS 7.4.1, 7.4.3; API.md "Revocation is immediate")', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await createTestApp();
    // B's connections carry an application_name, so that its LISTEN connection can be told apart.
    b = await createTestApp({ database: { ...a.database, url: `${a.database.url}?application_name=bastion-b` } });
    await Promise.all([a.app.get(ChangeFeed).whenLive(), b.app.get(ChangeFeed).whenLive()]);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  async function signInOnA(user?: CreatedUser): Promise<{ user: CreatedUser; pair: Pair }> {
    const u = user ?? (await createUser(a));
    return { user: u, pair: (await loginTokens(a, u)) as Pair };
  }

  async function cookieOnA(user: CreatedUser): Promise<{ cookie: string; csrfToken: string }> {
    const res = await login(a, user.email, user.password, 'cookie');
    expect(res.statusCode).toBe(200);
    return { cookie: res.cookies.find((c) => c.name === COOKIE)!.value, csrfToken: res.json().csrfToken };
  }

  /**
   * Terminates the change-feed LISTEN connections of this database (of every instance, or only
   * of B's) and returns the application names of the terminated backends.
   */
  async function terminateListeners(onlyB = false): Promise<string[]> {
    // pg-listen's paranoid check replaces the LISTEN statement in pg_stat_activity after 2 s.
    const rows: { application_name: string; ok: boolean }[] = await em(a).execute(
      `SELECT application_name, pg_terminate_backend(pid) AS ok FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND (query ILIKE 'LISTEN%' OR query = 'SELECT pg_backend_pid()') AND (? = false OR application_name = 'bastion-b')`,
      [onlyB],
    );
    return rows.filter((r) => r.ok).map((r) => r.application_name);
  }

  it('ASVS 7.4.1: a token minted on A works on B; logout on A is refused by B within 1 s', async () => {
    const { user, pair } = await signInOnA();
    const onB = await whoami(b, pair);
    expect(onB.statusCode).toBe(200);
    expect(onB.json()).toMatchObject({ userId: user.id, sessionId: sidOf(pair.accessToken) });

    const out = await a.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(pair.accessToken) });
    expect(out.statusCode).toBe(204);
    const at = Date.now();
    expect((await whoami(a, pair)).statusCode).toBe(401);
    expect(await refusedAfter(b, pair, at)).toBeLessThan(SLA_MS);
    // The refresh token is dead on B too (the database is the truth).
    expect((await b.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: pair.refreshToken } })).statusCode).toBe(401);
  });

  it('ASVS 7.4.1: logout-all on A ends every session of the user on B within 1 s', async () => {
    const { user, pair } = await signInOnA();
    const second = (await loginTokens(b, user)) as Pair;
    const third = (await loginTokens(a, user)) as Pair;
    const browser = await cookieOnA(user);
    for (const c of [pair, second, third, { cookie: browser.cookie }]) expect((await whoami(b, c)).statusCode).toBe(200);

    expect((await a.app.inject({ method: 'POST', url: '/api/v1/auth/logout-all', headers: bearer(pair.accessToken) })).statusCode).toBe(204);
    const at = Date.now();
    for (const c of [pair, second, third, { cookie: browser.cookie }]) {
      expect(await refusedAfter(b, c, at)).toBeLessThan(SLA_MS);
    }
  });

  it('ASVS 7.4.1: DELETE /auth/sessions/:id on B ends a session that A then refuses within 1 s', async () => {
    const { user, pair } = await signInOnA();
    const other = (await loginTokens(a, user)) as Pair;
    expect((await whoami(a, other)).statusCode).toBe(200);
    const res = await b.app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${sidOf(other.accessToken)}`, headers: bearer(pair.accessToken) });
    expect(res.statusCode).toBe(204);
    expect(await refusedAfter(a, other, Date.now())).toBeLessThan(SLA_MS);
    expect((await whoami(a, pair)).statusCode).toBe(200);
  });

  it('ASVS 7.4.3: a password change on A ends the user’s other sessions on B within 1 s; the changing session keeps working', async () => {
    const { user, pair } = await signInOnA();
    const others = [(await loginTokens(b, user)) as Pair, (await loginTokens(a, user)) as Pair];
    const browser = await cookieOnA(user);
    for (const c of [...others, { cookie: browser.cookie }]) expect((await whoami(b, c)).statusCode).toBe(200);

    const res = await a.app.inject({
      method: 'POST',
      url: '/api/v1/users/me/password',
      headers: bearer(pair.accessToken),
      payload: { currentPassword: STRONG_PASSWORD, newPassword: 'a completely different passphrase 42' },
    });
    expect(res.statusCode).toBe(204);
    const at = Date.now();
    for (const c of [...others, { cookie: browser.cookie }]) expect(await refusedAfter(b, c, at)).toBeLessThan(SLA_MS);
    expect((await whoami(b, pair)).statusCode).toBe(200);
    expect((await whoami(a, pair)).statusCode).toBe(200);
  });

  it('ASVS 7.4.1: a cookie session logged out on A is refused by B within 1 s, and a cookie rotated on A stops working on B', async () => {
    const user = await createUser(a);
    const browser = await cookieOnA(user);
    expect((await whoami(b, { cookie: browser.cookie })).statusCode).toBe(200); // cached on B

    const rotated = await a.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', headers: { cookie: `${COOKIE}=${browser.cookie}`, 'x-csrf-token': browser.csrfToken }, payload: {} });
    expect(rotated.statusCode).toBe(200);
    const at = Date.now();
    const next = rotated.cookies.find((c) => c.name === COOKIE)!.value;
    expect(await refusedAfter(b, { cookie: browser.cookie }, at)).toBeLessThan(SLA_MS);
    expect((await whoami(b, { cookie: next })).statusCode).toBe(200);

    const out = await a.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie: `${COOKIE}=${next}`, 'x-csrf-token': rotated.json().csrfToken } });
    expect(out.statusCode).toBe(204);
    expect(await refusedAfter(b, { cookie: next }, Date.now())).toBeLessThan(SLA_MS);
  });

  it('ASVS 10.4.5: refresh-token theft detected on A kills the session’s access tokens on B within 1 s', async () => {
    const { pair } = await signInOnA();
    const next = (await b.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: pair.refreshToken } })).json<Pair>();
    expect((await whoami(b, next)).statusCode).toBe(200);
    await em(a).execute(`UPDATE refresh_tokens SET rotated_at = now() - interval '11 seconds' WHERE rotated_at IS NOT NULL AND session_id = ?`, [sidOf(pair.accessToken)]);
    expect((await a.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: pair.refreshToken } })).statusCode).toBe(401);
    expect(await refusedAfter(b, next, Date.now())).toBeLessThan(SLA_MS);
  });

  it('ASVS 7.4.1: after its LISTEN connection is killed, B refuses a session revoked meanwhile within 1 s, resyncs and is live again', async () => {
    const feedB = b.app.get(ChangeFeed);
    const feedA = a.app.get(ChangeFeed);
    let resyncs = 0;
    feedB.register({ apply: () => undefined, resync: async () => void resyncs++ });

    const user = await createUser(a);
    const victims = await Promise.all([0, 1, 2].map(() => loginTokens(a, user) as Promise<Pair>));
    for (const v of victims) expect((await whoami(b, v)).statusCode).toBe(200); // cached as live on B

    // Revoke at several moments of B's reconnect: before it notices, while it reconnects, while it resyncs.
    for (const [i, delay] of [0, 10, 40].entries()) {
      const before = resyncs;
      const killed = await terminateListeners();
      expect(killed).toContain('bastion-b');
      expect(killed.length).toBeGreaterThanOrEqual(2); // A's listener too
      if (delay) await sleep(delay);
      const out = await a.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(victims[i].accessToken) });
      expect(out.statusCode).toBe(204);
      const at = Date.now();
      expect(await refusedAfter(b, victims[i], at)).toBeLessThan(SLA_MS);
      await feedB.whenLive(5000);
      await feedA.whenLive(5000);
      expect(feedB.live).toBe(true);
      // The listener really reconnected and B rebuilt its caches from the tables.
      const deadline = Date.now() + 3000;
      while (resyncs === before && Date.now() < deadline) await sleep(20);
      expect(resyncs).toBeGreaterThan(before);
      // Live again, B answers from memory — and that memory includes the revocation.
      await staysRefused(b, victims[i]);
    }

    // The re-established LISTEN delivers new revocations again.
    const later = (await loginTokens(a, user)) as Pair;
    expect((await whoami(b, later)).statusCode).toBe(200);
    expect((await a.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(later.accessToken) })).statusCode).toBe(204);
    expect(await refusedAfter(b, later, Date.now())).toBeLessThan(SLA_MS);
  });

  it('ASVS 7.4.1: a revocation committed while an instance resyncs after a reconnect is not lost once it is live again', async () => {
    const feedB = b.app.get(ChangeFeed);
    const user = await createUser(a);
    const filler = await createUser(a);
    // Many recently revoked sessions make the resync read take a while (~100 ms), so that the
    // revocation below commits after that read's snapshot and is notified before it returns.
    await em(a).execute(
      `INSERT INTO sessions (id, user_id, expires_at, auth_time, amr, revoked_at, revoked_reason)
       SELECT gen_random_uuid(), ?, now() + interval '1 day', now(), '["pwd"]'::jsonb, now(), 'logout' FROM generate_series(1, 30000)`,
      [filler.id],
    );
    // The revoking instance is played by a plain connection doing what SessionService.revoke does
    // (UPDATE + NOTIFY in one transaction), so that its COMMIT can be timed to the millisecond
    // without waiting on this process's busy event loop.
    const other = new Client({ connectionString: a.database.url });
    await other.connect();
    try {
      const victim = (await loginTokens(a, user)) as Pair;
      const sid = sidOf(victim.accessToken);
      for (const app of [a, b]) expect((await whoami(app, victim)).statusCode).toBe(200);
      await other.query('BEGIN');
      await other.query(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout' WHERE id = $1`, [sid]);
      await other.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, JSON.stringify({ type: 'sessions.revoked', sessionIds: [sid] })]);

      let committed: Promise<unknown> | undefined;
      feedB.register({
        apply: () => undefined,
        // Called as B starts resyncing, right after its RevocationSet asked for its read.
        resync: async () => {
          committed ??= sleep(10).then(() => other.query('COMMIT'));
        },
      });
      expect(await terminateListeners(true)).toEqual(['bastion-b']);
      const deadline = Date.now() + 5000;
      while (!committed && Date.now() < deadline) await sleep(5);
      expect(committed).toBeDefined();
      await committed;
      await feedB.whenLive(10_000);
      // B is live again and answers from memory: the revocation must be in it.
      await staysRefused(b, victim);
      await staysRefused(a, victim);
    } finally {
      await other.end();
      await em(a).execute('DELETE FROM sessions WHERE user_id = ?', [filler.id]);
    }
  });

  it('ASVS 7.4.1: a fresh instance C started after a revocation refuses the revoked token at once and accepts live ones', async () => {
    const { user, pair } = await signInOnA();
    const live = (await loginTokens(a, user)) as Pair;
    expect((await a.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(pair.accessToken) })).statusCode).toBe(204);
    const c = await createTestApp({ database: a.database });
    try {
      expect((await whoami(c, pair)).statusCode).toBe(401);
      await c.app.get(ChangeFeed).whenLive();
      expect((await whoami(c, pair)).statusCode).toBe(401);
      expect((await whoami(c, live)).statusCode).toBe(200);
      // C takes part in propagation both ways.
      expect((await c.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(live.accessToken) })).statusCode).toBe(204);
      expect(await refusedAfter(a, live, Date.now())).toBeLessThan(SLA_MS);
      expect(await refusedAfter(b, live, Date.now())).toBeLessThan(SLA_MS);
    } finally {
      await c.close();
    }
  });
});
