import { decode } from 'jsonwebtoken';
import type { SessionSummary } from '../../src/auth/sessions/user-sessions.service';
import { bearer, createUser, em, login, loginTokens, type CreatedUser } from '../support/auth-helpers';
import { createTestApp, type TestApp } from '../support/test-app';

interface Pair {
  accessToken: string;
  refreshToken: string;
}

const sidOf = (accessToken: string) => (decode(accessToken) as { sid: string }).sid;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('Session management: list, end, logout, logout-all (ASVS 7.5.2, 7.4.1)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const whoami = (accessToken: string) => t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: bearer(accessToken) });
  const refresh = (refreshToken: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken } });
  const list = (accessToken: string) => t.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: bearer(accessToken) });
  const end = (accessToken: string, id: string) => t.app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${id}`, headers: bearer(accessToken) });
  const signIn = async (user: CreatedUser, userAgent = 'bastion-e2e') => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'user-agent': userAgent }, payload: { email: user.email, password: user.password } });
    expect(res.statusCode).toBe(200);
    return res.json<Pair>();
  };

  it('ASVS 7.5.2: GET /auth/sessions lists only the caller’s live sessions, with `current` true only for the calling one', async () => {
    const user = await createUser(t);
    const stranger = await createUser(t);
    const laptop = await signIn(user, 'Laptop/1.0');
    const phone = await signIn(user, 'Phone/2.0');
    const ended = await signIn(user, 'Tablet/3.0');
    const strangers = await loginTokens(t, stranger);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(ended.accessToken) })).statusCode).toBe(204);

    const res = await list(laptop.accessToken);
    expect(res.statusCode).toBe(200);
    const items = res.json<SessionSummary[]>();
    expect(items.map((s) => s.id).sort()).toEqual([sidOf(laptop.accessToken), sidOf(phone.accessToken)].sort());
    expect(items.map((s) => s.id)).not.toContain(sidOf(strangers.accessToken));
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual(['amr', 'createdAt', 'current', 'id', 'ip', 'lastUsedAt', 'userAgent']);
      expect(item.createdAt).toMatch(ISO);
      expect(item.lastUsedAt).toMatch(ISO);
      expect(item.amr).toEqual(['pwd']);
      expect(item.ip).toBe('127.0.0.1');
      expect(item.current).toBe(item.id === sidOf(laptop.accessToken));
    }
    expect(items.find((s) => s.current)?.userAgent).toBe('Laptop/1.0');
    expect(items.find((s) => !s.current)?.userAgent).toBe('Phone/2.0');
    // Nothing secret is listed.
    expect(res.body).not.toContain(laptop.refreshToken);
    expect(res.body).not.toMatch(/hash|secret|token/i);

    const fromPhone = (await list(phone.accessToken)).json<SessionSummary[]>();
    expect(fromPhone.filter((s) => s.current).map((s) => s.id)).toEqual([sidOf(phone.accessToken)]);
  });

  it('ASVS 7.5.2 / 7.3.1 / 7.3.2: sessions past their idle timeout or absolute lifetime are not listed', async () => {
    const user = await createUser(t);
    const live = await signIn(user);
    const idle = await signIn(user);
    const expired = await signIn(user);
    await em(t).execute(`UPDATE sessions SET last_used_at = now() - make_interval(secs => ?) WHERE id = ?`, [t.config.sessions.idleTtl + 60, sidOf(idle.accessToken)]);
    await em(t).execute(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = ?`, [sidOf(expired.accessToken)]);
    const items = (await list(live.accessToken)).json<SessionSummary[]>();
    expect(items.map((s) => s.id)).toEqual([sidOf(live.accessToken)]);
  });

  it('ASVS 7.5.2: DELETE /auth/sessions/:id ends another of my sessions: 204, its access and refresh tokens are refused at once', async () => {
    const user = await createUser(t);
    const mine = await signIn(user);
    const other = await signIn(user);
    expect((await whoami(other.accessToken)).statusCode).toBe(200);

    const res = await end(mine.accessToken, sidOf(other.accessToken));
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    const refused = await whoami(other.accessToken);
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toContain('Bearer');
    expect((await refresh(other.refreshToken)).statusCode).toBe(401);
    // The caller's own session is untouched and the ended one is gone from the list.
    expect((await whoami(mine.accessToken)).statusCode).toBe(200);
    expect((await list(mine.accessToken)).json<SessionSummary[]>().map((s) => s.id)).toEqual([sidOf(mine.accessToken)]);
    const [row] = await em(t).execute('SELECT revoked_at FROM sessions WHERE id = ?', [sidOf(other.accessToken)]);
    expect(row.revoked_at).not.toBeNull();
    // Ending it again: it no longer exists as a live session.
    expect((await end(mine.accessToken, sidOf(other.accessToken))).statusCode).toBe(404);
  });

  it('ASVS 7.5.2: ending my current session through DELETE /auth/sessions/:id logs me out', async () => {
    const user = await createUser(t);
    const mine = await signIn(user);
    expect((await end(mine.accessToken, sidOf(mine.accessToken))).statusCode).toBe(204);
    expect((await whoami(mine.accessToken)).statusCode).toBe(401);
  });

  it('ASVS 8.2.2: another user’s session id is 404 (existence not revealed) and that session keeps working', async () => {
    const me = await createUser(t);
    const victim = await createUser(t);
    const mine = await signIn(me);
    const theirs = await signIn(victim);
    const res = await end(mine.accessToken, sidOf(theirs.accessToken));
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const unknown = await end(mine.accessToken, '00000000-0000-4000-8000-000000000000');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ status: 404, title: res.json().title, detail: res.json().detail });
    expect((await whoami(theirs.accessToken)).statusCode).toBe(200);
    expect((await refresh(theirs.refreshToken)).statusCode).toBe(200);
    const [row] = await em(t).execute('SELECT revoked_at FROM sessions WHERE id = ?', [sidOf(theirs.accessToken)]);
    expect(row.revoked_at).toBeNull();
  });

  it('ASVS 2.2.1: rejects a malformed session id with 400 validation', async () => {
    const user = await createUser(t);
    const mine = await signIn(user);
    for (const id of ['not-a-uuid', '123', `${sidOf(mine.accessToken)}x`, "1'%20OR%20'1'='1"]) {
      const res = await end(mine.accessToken, id);
      expect({ id, status: res.statusCode }).toEqual({ id, status: 400 });
      expect(res.json().type).toBe('urn:bastion:problem:validation');
    }
    expect((await whoami(mine.accessToken)).statusCode).toBe(200);
  });

  it('ASVS 7.4.1: logout is 204 and the access token is refused at once, as is the refresh token', async () => {
    const user = await createUser(t);
    const pair = await signIn(user);
    const other = await signIn(user);
    expect((await whoami(pair.accessToken)).statusCode).toBe(200);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(pair.accessToken) });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    const after = await whoami(pair.accessToken);
    expect(after.statusCode).toBe(401);
    expect(after.headers['content-type']).toContain('application/problem+json');
    expect((await list(pair.accessToken)).statusCode).toBe(401);
    expect((await refresh(pair.refreshToken)).statusCode).toBe(401);
    // A second logout with the dead token is 401, not a 500 or a silent 204.
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(pair.accessToken) })).statusCode).toBe(401);
    // Only the current session ended.
    expect((await whoami(other.accessToken)).statusCode).toBe(200);
    const [row] = await em(t).execute('SELECT revoked_at, revoked_reason FROM sessions WHERE id = ?', [sidOf(pair.accessToken)]);
    expect(row).toMatchObject({ revoked_reason: 'logout' });
    expect(row.revoked_at).not.toBeNull();
  });

  it('ASVS 7.4.1: a logged-out session cannot be revived by a refresh token presented within the grace window', async () => {
    const user = await createUser(t);
    const pair = await signIn(user);
    const next = (await refresh(pair.refreshToken)).json<Pair>();
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(next.accessToken) })).statusCode).toBe(204);
    expect((await refresh(pair.refreshToken)).statusCode).toBe(401);
    expect((await refresh(next.refreshToken)).statusCode).toBe(401);
  });

  it('ASVS 7.4.1: logout-all is 204 and every session of the caller is refused (bearer and cookie), other users untouched', async () => {
    const user = await createUser(t);
    const bystander = await createUser(t);
    const sessions = [await signIn(user), await signIn(user), await signIn(user)];
    const cookieLogin = await login(t, user.email, user.password, 'cookie');
    expect(cookieLogin.statusCode).toBe(200);
    const cookie = cookieLogin.cookies.find((c) => c.name === '__Host-sid')!.value;
    const theirs = await signIn(bystander);

    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout-all', headers: bearer(sessions[0].accessToken) });
    expect(res.statusCode).toBe(204);
    for (const s of sessions) {
      expect((await whoami(s.accessToken)).statusCode).toBe(401);
      expect((await refresh(s.refreshToken)).statusCode).toBe(401);
    }
    const byCookie = await t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', cookies: { '__Host-sid': cookie } });
    expect(byCookie.statusCode).toBe(401);
    const live = await em(t).execute('SELECT count(*)::int AS n FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [user.id]);
    expect(live[0].n).toBe(0);
    expect((await whoami(theirs.accessToken)).statusCode).toBe(200);
    // A new sign-in still works and gets a new session id (ASVS 7.2.4).
    const fresh = await signIn(user);
    expect(sessions.map((s) => sidOf(s.accessToken))).not.toContain(sidOf(fresh.accessToken));
    expect((await whoami(fresh.accessToken)).statusCode).toBe(200);
  });

  it('ASVS 7.2.4: every login starts a new session id', async () => {
    const user = await createUser(t);
    const sids = new Set<string>();
    for (let i = 0; i < 3; i++) sids.add(sidOf((await signIn(user)).accessToken));
    expect(sids.size).toBe(3);
  });

  it('ASVS 8.2.1: denies every session route to anonymous and invalid callers with 401 and WWW-Authenticate: Bearer', async () => {
    const routes = [
      { method: 'GET', url: '/api/v1/auth/sessions' },
      { method: 'DELETE', url: '/api/v1/auth/sessions/00000000-0000-4000-8000-000000000000' },
      { method: 'POST', url: '/api/v1/auth/logout' },
      { method: 'POST', url: '/api/v1/auth/logout-all' },
      { method: 'GET', url: '/api/v1/auth/whoami' },
    ] as const;
    for (const route of routes) {
      for (const headers of [{}, bearer('not.a.jwt'), { authorization: 'Basic dXNlcjpwYXNz' }]) {
        const res = await t.app.inject({ ...route, headers });
        expect({ ...route, headers, status: res.statusCode }).toEqual({ ...route, headers, status: 401 });
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
        expect(res.headers['content-type']).toContain('application/problem+json');
      }
    }
  });
});
