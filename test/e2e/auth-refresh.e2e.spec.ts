import { createHash } from 'node:crypto';
import { decode } from 'jsonwebtoken';
import { bearer, createUser, em, loginTokens } from '../support/auth-helpers';
import { createTestApp, type TestApp } from '../support/test-app';

interface Pair {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
}

const sha256 = (secret: string) => createHash('sha256').update(secret).digest('hex');
const sidOf = (accessToken: string) => (decode(accessToken) as { sid: string }).sid;

describe('Refresh tokens: rotation, grace window, reuse detection, lifetimes (ASVS 10.4.5)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const refresh = (refreshToken: unknown) => t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken } });
  const whoami = (accessToken: string) => t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: bearer(accessToken) });
  const sessionRow = async (sid: string) => {
    const [row] = await em(t).execute('SELECT revoked_at, revoked_reason, expires_at, last_used_at FROM sessions WHERE id = ?', [sid]);
    return row as { revoked_at: Date | null; revoked_reason: string | null; expires_at: Date; last_used_at: Date };
  };
  /** Moves a token's rotation back in time: the only way to leave the 10 s grace window quickly. */
  const ageRotation = (refreshToken: string, seconds: number) =>
    em(t).execute(`UPDATE refresh_tokens SET rotated_at = now() - make_interval(secs => ?) WHERE token_hash = ?`, [seconds, sha256(refreshToken)]);

  async function signIn(): Promise<{ user: Awaited<ReturnType<typeof createUser>>; pair: Pair; sid: string }> {
    const user = await createUser(t);
    const pair = (await loginTokens(t, user)) as Pair;
    return { user, pair, sid: sidOf(pair.accessToken) };
  }

  it('ASVS 10.4.5: a refresh rotates the token and returns a new pair of the same session (same sid)', async () => {
    const { user, pair, sid } = await signIn();
    const res = await refresh(pair.refreshToken);
    expect(res.statusCode).toBe(200);
    const next = res.json<Pair>();
    expect(Object.keys(next).sort()).toEqual(['accessToken', 'expiresIn', 'refreshToken', 'tokenType']);
    expect(next.tokenType).toBe('Bearer');
    expect(next.expiresIn).toBe(900);
    expect(next.refreshToken).not.toBe(pair.refreshToken);
    expect(next.refreshToken.length).toBeGreaterThanOrEqual(43); // >= 256 bits, base64url
    expect(next.accessToken).not.toBe(pair.accessToken);
    const claims = decode(next.accessToken) as { sid: string; sub: string; amr: string[]; jti: string; auth_time: number };
    const original = decode(pair.accessToken) as { jti: string; auth_time: number };
    expect(claims.sid).toBe(sid);
    expect(claims.sub).toBe(user.id);
    expect(claims.amr).toEqual(['pwd']);
    expect(claims.jti).not.toBe(original.jti);
    expect(claims.auth_time).toBe(original.auth_time);
    const who = await whoami(next.accessToken);
    expect(who.statusCode).toBe(200);
    expect(who.json()).toMatchObject({ userId: user.id, sessionId: sid });

    // Stored only as a hash: neither the old nor the new token is in the table in clear.
    const rows: { token_hash: string; parent_id: string | null; rotated_at: Date | null }[] = await em(t).execute(
      'SELECT token_hash, parent_id, rotated_at FROM refresh_tokens WHERE session_id = ? ORDER BY created_at',
      [sid],
    );
    expect(rows.map((r) => r.token_hash)).toEqual([sha256(pair.refreshToken), sha256(next.refreshToken)]);
    expect(rows[0].rotated_at).not.toBeNull();
    expect(rows[1].rotated_at).toBeNull();
    expect(rows[1].parent_id).not.toBeNull();
  });

  it('ASVS 10.4.5: the old token replayed within the 10 s grace window gets a sibling pair of the same session, not a theft verdict', async () => {
    const { pair, sid } = await signIn();
    const first = await refresh(pair.refreshToken);
    expect(first.statusCode).toBe(200);
    const again = await refresh(pair.refreshToken);
    expect(again.statusCode).toBe(200);
    const a = first.json<Pair>();
    const b = again.json<Pair>();
    expect(sidOf(b.accessToken)).toBe(sid);
    expect(b.refreshToken).not.toBe(a.refreshToken);
    expect(b.refreshToken).not.toBe(pair.refreshToken);
    // Both siblings and both access tokens work; the session is untouched.
    expect((await whoami(a.accessToken)).statusCode).toBe(200);
    expect((await whoami(b.accessToken)).statusCode).toBe(200);
    expect((await sessionRow(sid)).revoked_at).toBeNull();
    const audit = await em(t).execute(`SELECT 1 FROM audit_events WHERE type = 'auth.refresh.reuse_detected' AND target_id = ?`, [sid]);
    expect(audit).toHaveLength(0);
    for (const sibling of [a, b]) {
      const r = await refresh(sibling.refreshToken);
      expect(r.statusCode).toBe(200);
      expect(sidOf(r.json<Pair>().accessToken)).toBe(sid);
    }
  });

  it('ASVS 10.4.5: each sibling is single use in the same way: a replay after its own grace window is theft', async () => {
    const { pair, sid } = await signIn();
    const a = (await refresh(pair.refreshToken)).json<Pair>();
    const b = (await refresh(pair.refreshToken)).json<Pair>();
    // Sibling b is rotated now; replayed within its grace window it mints another sibling.
    const b1 = await refresh(b.refreshToken);
    expect(b1.statusCode).toBe(200);
    const b2 = await refresh(b.refreshToken);
    expect(b2.statusCode).toBe(200);
    expect(b2.json<Pair>().refreshToken).not.toBe(b1.json<Pair>().refreshToken);
    // Once b's own rotation is older than the grace window, b is theft: the whole family dies,
    // including sibling a (never rotated) and b's successors.
    await ageRotation(b.refreshToken, 11);
    const stolen = await refresh(b.refreshToken);
    expect(stolen.statusCode).toBe(401);
    expect((await sessionRow(sid)).revoked_at).not.toBeNull();
    for (const token of [a.refreshToken, b1.json<Pair>().refreshToken, b2.json<Pair>().refreshToken]) {
      expect((await refresh(token)).statusCode).toBe(401);
    }
    expect((await whoami(a.accessToken)).statusCode).toBe(401);
  });

  it('ASVS 10.4.5: a rotated token presented after the grace window is theft: 401 and the whole session (token family) is revoked at once', async () => {
    const { user, pair, sid } = await signIn();
    const r1 = (await refresh(pair.refreshToken)).json<Pair>();
    const r2 = (await refresh(r1.refreshToken)).json<Pair>();
    expect((await whoami(r2.accessToken)).statusCode).toBe(200);

    await ageRotation(pair.refreshToken, 11);
    const theft = await refresh(pair.refreshToken);
    expect(theft.statusCode).toBe(401);
    expect(theft.headers['content-type']).toContain('application/problem+json');
    expect(theft.headers['www-authenticate']).toContain('Bearer');
    expect(theft.json()).toMatchObject({ status: 401 });
    expect(theft.body).not.toContain(pair.refreshToken);

    // Immediate, like logout: the current access token and the newest refresh token die with it.
    expect((await whoami(r2.accessToken)).statusCode).toBe(401);
    expect((await whoami(pair.accessToken)).statusCode).toBe(401);
    expect((await refresh(r2.refreshToken)).statusCode).toBe(401);
    const row = await sessionRow(sid);
    expect(row.revoked_at).not.toBeNull();
    expect(row.revoked_reason).toBe('refresh_reuse');

    // The user's other sessions are not part of this token family.
    const other = (await loginTokens(t, user)) as Pair;
    expect((await whoami(other.accessToken)).statusCode).toBe(200);
    // A second replay does not revive anything.
    expect((await refresh(pair.refreshToken)).statusCode).toBe(401);
    expect((await refresh(r2.refreshToken)).statusCode).toBe(401);
  });

  it('ASVS 10.4.5 / 16.3.1: theft is audited once as auth.refresh.reuse_detected, without any secret', async () => {
    const { user, pair, sid } = await signIn();
    const r1 = (await refresh(pair.refreshToken)).json<Pair>();
    await ageRotation(pair.refreshToken, 11);
    expect((await refresh(pair.refreshToken)).statusCode).toBe(401);
    expect((await refresh(pair.refreshToken)).statusCode).toBe(401);
    const audit: { actor_id: string; target_type: string; outcome: string; details: Record<string, unknown> }[] = await em(t).execute(
      `SELECT actor_id, target_type, outcome, details FROM audit_events WHERE type = 'auth.refresh.reuse_detected' AND target_id = ?`,
      [sid],
    );
    // Once: the second replay meets an already revoked session.
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_id: user.id, target_type: 'Session', outcome: 'denied' });
    const details = JSON.stringify(audit[0].details);
    for (const secret of [pair.refreshToken, r1.refreshToken, sha256(pair.refreshToken)]) expect(details).not.toContain(secret);
  });

  it('ASVS 10.4.5: a token rotated just under 10 s ago is still inside the grace window', async () => {
    const { pair, sid } = await signIn();
    expect((await refresh(pair.refreshToken)).statusCode).toBe(200);
    await ageRotation(pair.refreshToken, 8);
    const res = await refresh(pair.refreshToken);
    expect(res.statusCode).toBe(200);
    expect(sidOf(res.json<Pair>().accessToken)).toBe(sid);
    expect((await sessionRow(sid)).revoked_at).toBeNull();
  });

  it('ASVS 10.4.5: 8 concurrent refreshes of one token all succeed (two tabs must not log the user out): same sid, distinct tokens, no revocation', async () => {
    const { pair, sid } = await signIn();
    const results = await Promise.all(Array.from({ length: 8 }, () => refresh(pair.refreshToken)));
    expect(results.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
    const pairs = results.map((r) => r.json<Pair>());
    expect(new Set(pairs.map((p) => sidOf(p.accessToken)))).toEqual(new Set([sid]));
    expect(new Set(pairs.map((p) => p.refreshToken)).size).toBe(8);
    expect(new Set(pairs.map((p) => p.accessToken)).size).toBe(8);
    expect((await sessionRow(sid)).revoked_at).toBeNull();
    const audit = await em(t).execute(`SELECT 1 FROM audit_events WHERE type = 'auth.refresh.reuse_detected' AND target_id = ?`, [sid]);
    expect(audit).toHaveLength(0);
    // Exactly one rotation of the presented token; eight successors, all children of it.
    const rows: { parent_id: string | null; rotated_at: Date | null }[] = await em(t).execute('SELECT parent_id, rotated_at FROM refresh_tokens WHERE session_id = ?', [sid]);
    expect(rows).toHaveLength(9);
    expect(rows.filter((r) => r.rotated_at !== null)).toHaveLength(1);
    for (const p of pairs) expect((await whoami(p.accessToken)).statusCode).toBe(200);
    const next = await refresh(pairs[7].refreshToken);
    expect(next.statusCode).toBe(200);
  });

  it('ASVS 10.4.5: an unknown refresh token is 401 problem+json', async () => {
    for (const token of ['not-a-real-token', 'A'.repeat(43), 'x']) {
      const res = await refresh(token);
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({ status: 401 });
    }
  });

  it('ASVS 2.2.1: rejects malformed refresh bodies with 400 (number, 10 kB string, extra field, missing token, no body, not an object)', async () => {
    const bodies: unknown[] = [{ refreshToken: 12345 }, { refreshToken: 'x'.repeat(10_240) }, { refreshToken: 'abc', extra: true }, {}, { refreshToken: null }, { refreshToken: ['a'] }];
    for (const payload of bodies) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: payload as object });
      expect({ payload, status: res.statusCode }).toEqual({ payload, status: 400 });
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().type).toBe('urn:bastion:problem:validation');
    }
    // No body and no session cookie: nothing to refresh.
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh' })).statusCode).toBe(400);
    for (const raw of ['[]', '"token"', 'null', '{not json']) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', headers: { 'content-type': 'application/json' }, payload: raw });
      expect({ raw, status: res.statusCode }).toEqual({ raw, status: 400 });
    }
  });

  it('ASVS 7.3.2 absolute lifetime: a session past expires_at cannot be refreshed (401) and is not revived', async () => {
    const { pair, sid } = await signIn();
    await em(t).execute(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = ?`, [sid]);
    expect((await refresh(pair.refreshToken)).statusCode).toBe(401);
    await em(t).execute(`UPDATE sessions SET expires_at = now() + interval '1 day' WHERE id = ?`, [sid]);
    // The token was not consumed by the refused attempt.
    expect((await refresh(pair.refreshToken)).statusCode).toBe(200);
  });

  it('ASVS 7.3.1 idle timeout: a session unused for longer than SESSION_IDLE_TTL cannot be refreshed (401)', async () => {
    const { pair, sid } = await signIn();
    await em(t).execute(`UPDATE sessions SET last_used_at = now() - make_interval(secs => ?) WHERE id = ?`, [t.config.sessions.idleTtl + 60, sid]);
    expect((await refresh(pair.refreshToken)).statusCode).toBe(401);
    // Just inside the idle window it still works, and a refresh counts as use.
    await em(t).execute(`UPDATE sessions SET last_used_at = now() - make_interval(secs => ?) WHERE id = ?`, [t.config.sessions.idleTtl - 60, sid]);
    expect((await refresh(pair.refreshToken)).statusCode).toBe(200);
    const row = await sessionRow(sid);
    expect(Date.now() - new Date(row.last_used_at).getTime()).toBeLessThan(60_000);
  });

  it('ASVS 7.3.2 absolute lifetime from configuration: REFRESH_TOKEN_TTL bounds the session', async () => {
    const short = await createTestApp({ database: t.database, env: { REFRESH_TOKEN_TTL: '1', SESSION_IDLE_TTL: '3600' } });
    try {
      const user = await createUser(short);
      const pair = (await loginTokens(short, user)) as Pair;
      const [row] = await em(short).execute('SELECT created_at, expires_at FROM sessions WHERE id = ?', [sidOf(pair.accessToken)]);
      expect(new Date(row.expires_at).getTime() - new Date(row.created_at).getTime()).toBe(1000);
      await new Promise((r) => setTimeout(r, 1100));
      const res = await short.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: pair.refreshToken } });
      expect(res.statusCode).toBe(401);
    } finally {
      await short.close();
    }
  });

  it('ASVS 7.3.1 idle timeout from configuration: SESSION_IDLE_TTL ends an unused session', async () => {
    const idle = await createTestApp({ database: t.database, env: { SESSION_IDLE_TTL: '1' } });
    try {
      const user = await createUser(idle);
      const pair = (await loginTokens(idle, user)) as Pair;
      await new Promise((r) => setTimeout(r, 1100));
      const res = await idle.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: pair.refreshToken } });
      expect(res.statusCode).toBe(401);
    } finally {
      await idle.close();
    }
  });
});
