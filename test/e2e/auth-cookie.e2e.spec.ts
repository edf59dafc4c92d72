import { createHash, randomBytes } from 'node:crypto';
import type { LightMyRequestResponse as InjectResponse } from 'fastify';
import { Client } from 'pg';
import { bearer, createUser, em, login, loginTokens, type CreatedUser } from '../support/auth-helpers';
import { createTestApp, type TestApp } from '../support/test-app';

const COOKIE = '__Host-sid';
const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex');

function setCookieHeader(res: InjectResponse): string {
  const raw = res.headers['set-cookie'];
  const all = Array.isArray(raw) ? raw : raw ? [raw] : [];
  const mine = all.filter((c) => c.startsWith(`${COOKIE}=`));
  expect(mine).toHaveLength(1);
  return mine[0];
}

function cookieValue(res: InjectResponse): string {
  return decodeURIComponent(setCookieHeader(res).split(';')[0].slice(COOKIE.length + 1));
}

/** Until `count` other backends wait on a row lock (the held transaction is `holder`). */
async function waitForLockWaiters(holder: Client, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await holder.query<{ state: string | null; wait: string | null; query: string }>(
      `SELECT state, wait_event_type || ':' || wait_event AS wait, left(query, 80) AS query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    if (rows.filter((r) => r.wait?.startsWith('Lock:')).length >= count) return;
    if (Date.now() > deadline) throw new Error(`fewer than ${count} backends wait on a lock: ${JSON.stringify(rows)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('Cookie mode: __Host-sid browser sessions with CSRF protection', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const withCookie = (cookie: string, extra: Record<string, string> = {}) => ({ cookie: `${COOKIE}=${cookie}`, ...extra });
  const whoami = (cookie: string) => t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: withCookie(cookie) });
  const csrf = (cookie: string) => t.app.inject({ method: 'GET', url: '/api/v1/auth/csrf', headers: withCookie(cookie) });

  async function cookieSignIn(user?: CreatedUser): Promise<{ user: CreatedUser; cookie: string; csrfToken: string; res: InjectResponse }> {
    const u = user ?? (await createUser(t));
    const res = await login(t, u.email, u.password, 'cookie');
    expect(res.statusCode).toBe(200);
    return { user: u, cookie: cookieValue(res), csrfToken: res.json().csrfToken, res };
  }

  it('ASVS 7.2.4 / 3.3.1: login ?mode=cookie answers {csrfToken, expiresIn} and sets __Host-sid; Path=/; HttpOnly; Secure; SameSite=Strict — no tokens in the body', async () => {
    const { cookie, res } = await cookieSignIn();
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['csrfToken', 'expiresIn']);
    expect(body.expiresIn).toBe(t.config.sessions.idleTtl);
    expect(typeof body.csrfToken).toBe('string');
    expect(body.csrfToken.length).toBeGreaterThanOrEqual(32);
    expect(res.body).not.toMatch(/accessToken|refreshToken/);
    expect(res.body).not.toContain(cookie);
    expect(body.csrfToken).not.toBe(cookie);

    const header = setCookieHeader(res);
    const attributes = header.split(';').map((a) => a.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(['path=/', 'httponly', 'secure', 'samesite=strict']));
    // __Host- prefix rules: no Domain attribute.
    expect(attributes.some((a) => a.startsWith('domain='))).toBe(false);
    expect(Buffer.from(cookie, 'base64url').length).toBeGreaterThanOrEqual(32); // >= 256 bits
  });

  it('ASVS 7.2.4: whoami with the cookie is 200 with amr ["pwd"]; GET /auth/csrf returns the same csrfToken', async () => {
    const { user, cookie, csrfToken } = await cookieSignIn();
    const who = await whoami(cookie);
    expect(who.statusCode).toBe(200);
    expect(who.json()).toMatchObject({ userId: user.id, amr: ['pwd'], roles: ['viewer'] });
    const [row] = await em(t).execute('SELECT id FROM sessions WHERE cookie_secret_hash = ?', [sha256(cookie)]);
    expect(who.json().sessionId).toBe(row.id);
    const again = await csrf(cookie);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ csrfToken });
    // Cookie sessions show in the session list like any other, marked current.
    const sessions = await t.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: withCookie(cookie) });
    expect(sessions.statusCode).toBe(200);
    expect(sessions.json()).toEqual([expect.objectContaining({ id: row.id, current: true, amr: ['pwd'] })]);
  });

  it('ASVS 3.5.1: POST /auth/logout with the cookie needs X-CSRF-Token: missing → 403, wrong → 403 (session still works), right → 204 and the cookie is dead', async () => {
    const { cookie, csrfToken } = await cookieSignIn();
    const logout = (headers: Record<string, string>) => t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: withCookie(cookie, headers) });

    const missing = await logout({});
    expect(missing.statusCode).toBe(403);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect((await whoami(cookie)).statusCode).toBe(200);

    for (const wrong of ['wrong', csrfToken.slice(0, -1), `${csrfToken}x`, csrfToken.toUpperCase() === csrfToken ? 'x' : csrfToken.toUpperCase(), '']) {
      const res = await logout({ 'x-csrf-token': wrong });
      expect({ wrong, status: res.statusCode }).toEqual({ wrong, status: 403 });
    }
    // Another session's CSRF token does not fit this one.
    const other = await cookieSignIn();
    expect((await logout({ 'x-csrf-token': other.csrfToken })).statusCode).toBe(403);
    expect((await whoami(cookie)).statusCode).toBe(200);

    const ok = await logout({ 'x-csrf-token': csrfToken });
    expect(ok.statusCode).toBe(204);
    // The browser is told to drop the cookie.
    const cleared = setCookieHeader(ok).toLowerCase();
    expect(cleared).toMatch(/expires=thu, 01 jan 1970|max-age=0/);
    const after = await whoami(cookie);
    expect(after.statusCode).toBe(401);
    expect(after.headers['www-authenticate']).toContain('Bearer');
    expect((await csrf(cookie)).statusCode).toBe(401);
    expect((await whoami(other.cookie)).statusCode).toBe(200);
  });

  it('ASVS 3.5.1: every unsafe method in cookie mode needs the CSRF token (DELETE session, logout-all)', async () => {
    const a = await cookieSignIn();
    const b = await cookieSignIn(a.user);
    const [rowB] = await em(t).execute('SELECT id FROM sessions WHERE cookie_secret_hash = ?', [sha256(b.cookie)]);
    const del = (headers: Record<string, string>) => t.app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${rowB.id}`, headers: withCookie(a.cookie, headers) });
    expect((await del({})).statusCode).toBe(403);
    expect((await whoami(b.cookie)).statusCode).toBe(200);
    expect((await del({ 'x-csrf-token': a.csrfToken })).statusCode).toBe(204);
    expect((await whoami(b.cookie)).statusCode).toBe(401);

    const all = (headers: Record<string, string>) => t.app.inject({ method: 'POST', url: '/api/v1/auth/logout-all', headers: withCookie(a.cookie, headers) });
    expect((await all({})).statusCode).toBe(403);
    expect((await whoami(a.cookie)).statusCode).toBe(200);
    expect((await all({ 'x-csrf-token': a.csrfToken })).statusCode).toBe(204);
    expect((await whoami(a.cookie)).statusCode).toBe(401);
  });

  it('ASVS 7.2.4: POST /auth/refresh with cookie + CSRF rotates the secret: new cookie, new csrfToken, the old cookie is refused', async () => {
    const { user, cookie, csrfToken } = await cookieSignIn();
    const [before] = await em(t).execute('SELECT id, cookie_secret_hash FROM sessions WHERE cookie_secret_hash = ?', [sha256(cookie)]);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', headers: withCookie(cookie, { 'x-csrf-token': csrfToken }), payload: {} });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['csrfToken', 'expiresIn']);
    const next = cookieValue(res);
    expect(next).not.toBe(cookie);
    expect(body.csrfToken).not.toBe(csrfToken);
    const attributes = setCookieHeader(res).split(';').map((a) => a.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(['path=/', 'httponly', 'secure', 'samesite=strict']));

    expect((await whoami(cookie)).statusCode).toBe(401);
    const who = await whoami(next);
    expect(who.statusCode).toBe(200);
    // Same session, same user: a refresh never starts a new session.
    expect(who.json()).toMatchObject({ userId: user.id, sessionId: before.id });
    expect((await csrf(next)).json()).toEqual({ csrfToken: body.csrfToken });
    // The old CSRF token no longer fits the new cookie.
    const stale = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: withCookie(next, { 'x-csrf-token': csrfToken }) });
    expect(stale.statusCode).toBe(403);
    // The old cookie refreshing again within the 10 s grace (a second tab) is handed the current
    // cookie — the same one, not a third — and changes nothing.
    const replay = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', headers: withCookie(cookie, { 'x-csrf-token': csrfToken }), payload: {} });
    expect(replay.statusCode).toBe(200);
    expect(cookieValue(replay)).toBe(next);
    expect(replay.json().csrfToken).toBe(body.csrfToken);
    const [after] = await em(t).execute('SELECT cookie_secret_hash, revoked_at FROM sessions WHERE id = ?', [before.id]);
    expect(after).toEqual({ cookie_secret_hash: sha256(next), revoked_at: null });
  });

  it('ASVS 7.2.4: a browser refresh without a body (fetch with only the cookie and X-CSRF-Token) rotates the cookie', async () => {
    const { cookie, csrfToken } = await cookieSignIn();
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', headers: withCookie(cookie, { 'x-csrf-token': csrfToken }) });
    expect(res.statusCode).toBe(200);
    const next = cookieValue(res);
    expect((await whoami(next)).statusCode).toBe(200);
    expect((await whoami(cookie)).statusCode).toBe(401);
  });

  describe('two tabs refreshing one cookie session at once (compare-and-swap, 10 s grace)', () => {
    const refreshWith = (cookie: string, csrfToken: string) =>
      t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', headers: withCookie(cookie, { 'x-csrf-token': csrfToken }), payload: {} });
    /** Moves the cookie's last rotation back in time: the only way to leave the grace window quickly. */
    const ageRotation = (sessionId: string, seconds: number) =>
      em(t).execute(`UPDATE sessions SET cookie_rotated_at = now() - make_interval(secs => ?) WHERE id = ?`, [seconds, sessionId]);

    it('ASVS 10.4.5: both refreshes succeed with the same new cookie and the session survives; the old cookie used after the grace is theft and revokes the session', async () => {
      const { cookie, csrfToken } = await cookieSignIn();
      const [row] = await em(t).execute('SELECT id FROM sessions WHERE cookie_secret_hash = ?', [sha256(cookie)]);
      // Both refreshes are sent while a held transaction locks the session row, and released once
      // one of them waits on that lock: neither can rotate before both are in flight. Whichever
      // order the lock then serves them in, one rotates and the other is the sibling within the
      // grace, so the outcome asserted below does not depend on the interleaving.
      const holder = new Client({ connectionString: t.database.url });
      await holder.connect();
      let pending: Promise<InjectResponse[]>;
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT id FROM sessions WHERE id = $1 FOR UPDATE', [row.id]);
        pending = Promise.all([refreshWith(cookie, csrfToken), refreshWith(cookie, csrfToken)]);
        await waitForLockWaiters(holder, 1);
        await holder.query('COMMIT');
      } finally {
        await holder.end();
      }
      const [a, b] = await pending;
      expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
      const next = cookieValue(a);
      expect(cookieValue(b)).toBe(next);
      expect(next).not.toBe(cookie);
      expect(b.json().csrfToken).toBe(a.json().csrfToken);
      const who = await whoami(next);
      expect(who.statusCode).toBe(200);
      expect(who.json().sessionId).toBe(row.id);
      const [kept] = await em(t).execute('SELECT cookie_secret_hash, revoked_at FROM sessions WHERE id = ?', [row.id]);
      expect(kept).toEqual({ cookie_secret_hash: sha256(next), revoked_at: null });

      // A third use of the old cookie after the grace window: theft, as for refresh tokens.
      await ageRotation(row.id, 11);
      const third = await refreshWith(cookie, csrfToken);
      expect(third.statusCode).toBe(401);
      expect(third.headers['content-type']).toContain('application/problem+json');
      const [revoked] = await em(t).execute('SELECT revoked_at, revoked_reason FROM sessions WHERE id = ?', [row.id]);
      expect(revoked.revoked_at).not.toBeNull();
      expect(revoked.revoked_reason).toBe('cookie_reuse');
      expect((await whoami(next)).statusCode).toBe(401);
      const audit = await em(t).execute(`SELECT outcome FROM audit_events WHERE type = 'auth.refresh.reuse_detected' AND target_id = ?`, [row.id]);
      expect(audit).toEqual([{ outcome: 'denied' }]);
    });

    it('ASVS 10.4.5: just under 10 s after the rotation the old cookie still gets the current one', async () => {
      const { cookie, csrfToken } = await cookieSignIn();
      const [row] = await em(t).execute('SELECT id FROM sessions WHERE cookie_secret_hash = ?', [sha256(cookie)]);
      const first = await refreshWith(cookie, csrfToken);
      expect(first.statusCode).toBe(200);
      await ageRotation(row.id, 9);
      const late = await refreshWith(cookie, csrfToken);
      expect(late.statusCode).toBe(200);
      expect(cookieValue(late)).toBe(cookieValue(first));
      // The current cookie rotates on as usual; the first cookie is now two rotations old: unknown, 401.
      const second = await refreshWith(cookieValue(first), first.json().csrfToken);
      expect(second.statusCode).toBe(200);
      expect((await refreshWith(cookie, csrfToken)).statusCode).toBe(401);
      expect((await whoami(cookieValue(second))).statusCode).toBe(200);
    });
  });

  it('ASVS 3.5.1: POST /auth/refresh with the cookie but without (or with a wrong) CSRF token is 403 and rotates nothing', async () => {
    const { cookie, csrfToken } = await cookieSignIn();
    for (const headers of [{}, { 'x-csrf-token': 'nope' }] as Record<string, string>[]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', headers: withCookie(cookie, headers), payload: {} });
      expect(res.statusCode).toBe(403);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect((await whoami(cookie)).statusCode).toBe(200);
    expect((await csrf(cookie)).json()).toEqual({ csrfToken });
  });

  it('ASVS 3.5.1: GET /auth/csrf with a bearer token is 400 (cookie sessions only); without credentials 401', async () => {
    const user = await createUser(t);
    const { accessToken } = await loginTokens(t, user);
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/auth/csrf', headers: bearer(accessToken) });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const anonymous = await t.app.inject({ method: 'GET', url: '/api/v1/auth/csrf' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('ASVS 7.4.1: a forged, random or over-long cookie is 401, also on refresh', async () => {
    const forged = [randomBytes(32).toString('base64url'), 'x', 'A'.repeat(500), sha256('whatever')];
    for (const cookie of forged) {
      const res = await whoami(cookie);
      expect({ cookie: cookie.slice(0, 16), status: res.statusCode }).toEqual({ cookie: cookie.slice(0, 16), status: 401 });
      expect(res.headers['www-authenticate']).toContain('Bearer');
    }
    const refresh = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', headers: withCookie(randomBytes(32).toString('base64url'), { 'x-csrf-token': 'x' }), payload: {} });
    expect(refresh.statusCode).toBe(401);
    // The hash stored in the database is not a credential either.
    const { cookie } = await cookieSignIn();
    expect((await whoami(sha256(cookie))).statusCode).toBe(401);
  });

  it('ASVS 7.2.4: the session row stores only a SHA-256 hash of the cookie secret, never the secret', async () => {
    const { user, cookie } = await cookieSignIn();
    const rows: Record<string, unknown>[] = await em(t).execute('SELECT * FROM sessions WHERE user_id = ?', [user.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].cookie_secret_hash).toBe(sha256(cookie));
    expect(rows[0].cookie_secret_hash).not.toBe(cookie);
    expect(JSON.stringify(rows)).not.toContain(cookie);
    // Cookie mode mints no refresh token.
    const tokens = await em(t).execute('SELECT count(*)::int AS n FROM refresh_tokens WHERE session_id = ?', [rows[0].id]);
    expect(tokens[0].n).toBe(0);
  });

  it('ASVS 7.4.1: a revoked cookie session is refused at once even though it was cached (logout from a bearer session via logout-all)', async () => {
    const { user, cookie } = await cookieSignIn();
    expect((await whoami(cookie)).statusCode).toBe(200); // now cached in memory
    const { accessToken } = await loginTokens(t, user);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout-all', headers: bearer(accessToken) })).statusCode).toBe(204);
    expect((await whoami(cookie)).statusCode).toBe(401);
  });

  it('ASVS 6.3.8: cookie mode login is refused for bad credentials like bearer mode (401, no cookie set)', async () => {
    const user = await createUser(t);
    const res = await login(t, user.email, 'definitely the wrong password', 'cookie');
    expect(res.statusCode).toBe(401);
    expect(res.headers['set-cookie']).toBeUndefined();
    const badMode = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login?mode=session', payload: { email: user.email, password: user.password } });
    expect(badMode.statusCode).toBe(400);
  });
});
