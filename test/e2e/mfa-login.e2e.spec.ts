import { decodeJwt } from 'jose';
import { PasswordHasher } from '../../src/auth/passwords/password-hasher';
import { bearer, createUser, type CreatedUser, em, login, loginTokens } from '../support/auth-helpers';
import { extractToken, type SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { seedTotp } from '../support/mfa-helpers';
import { expectProblem, PROBLEM_JSON } from '../support/problem-assertions';
import { createTestApp, type TestApp } from '../support/test-app';
import { steadyStep, totp, wrongCode } from '../support/totp';

const COOKIE = '__Host-sid';
const NEW_PASSWORD = 'a brand new recovery passphrase';

interface Enrolled extends CreatedUser {
  secret: string;
  recoveryCodes: string[];
}

interface AuditRow {
  type: string;
  outcome: string;
  actor_id: string | null;
  details: Record<string, unknown>;
}

describe('MFA sign-in: login → mfaToken → /mfa/verify (ASVS 6.3.3, 6.4.3, 6.5.1, 6.5.5, 7.2.4)', () => {
  let t: TestApp;
  let sink: SmtpSink;
  let adminToken: string;

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url, headers, payload: payload as string });
  const verify = (payload: unknown, query = '') => post(`/api/v1/auth/mfa/verify${query}`, payload);
  const whoami = (accessToken: string) => t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: bearer(accessToken) });

  /**
   * A verified user whose TOTP was enabled a while ago, seeded straight into the database the way
   * createUser seeds users (the HTTP enrolment itself is covered by mfa-enrolment and mfa-smoke;
   * here it would cost a QR rendering per user). The app's own SecretBox and RecoveryCodes store
   * them, so the rows are exactly what enrolment writes.
   */
  async function enrolledUser(): Promise<Enrolled> {
    const user = await createUser(t);
    const { secret, recoveryCodes } = await seedTotp(t, user.id);
    return { ...user, secret, recoveryCodes };
  }

  async function mfaToken(user: CreatedUser): Promise<string> {
    const res = await login(t, user.email, user.password);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ mfaRequired: true });
    return res.json().mfaToken;
  }

  const auditOf = async (userId: string, type: string): Promise<AuditRow[]> =>
    em(t).execute('SELECT type, outcome, actor_id, details FROM audit_events WHERE target_id = ? AND type = ? ORDER BY at', [userId, type]);
  const lockState = async (userId: string): Promise<{ failed_login_count: number; locked_until: Date | null }> => {
    const rows: { failed_login_count: number; locked_until: Date | null }[] = await em(t).execute('SELECT failed_login_count, locked_until FROM users WHERE id = ?', [userId]);
    return rows[0];
  };

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({ env: { SMTP_URL: sink.url } });
    adminToken = (await loginTokens(t, await createUser(t, { roles: ['admin'] }))).accessToken;
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  describe('the first step', () => {
    it('6.3.3: the right password of a TOTP user answers only {mfaRequired, mfaToken, methods}: no tokens, no session, no cookie', async () => {
      const user = await enrolledUser();
      const sessionsBefore = (await em(t).execute('SELECT count(*)::int AS n FROM sessions WHERE user_id = ?', [user.id]))[0].n;
      for (const mode of [undefined, 'cookie'] as const) {
        const res = await login(t, user.email, user.password, mode);
        expect(res.statusCode).toBe(200);
        const body = res.json();
        expect(Object.keys(body).sort()).toEqual(['methods', 'mfaRequired', 'mfaToken']);
        expect(body).toEqual({ mfaRequired: true, mfaToken: expect.any(String), methods: ['totp', 'recovery_code'] });
        expect(Buffer.from(body.mfaToken, 'base64url').length).toBeGreaterThanOrEqual(32);
        expect(res.headers['set-cookie']).toBeUndefined();
        expect(res.body).not.toMatch(/accessToken|refreshToken|csrfToken/);
      }
      const sessionsAfter = (await em(t).execute('SELECT count(*)::int AS n FROM sessions WHERE user_id = ?', [user.id]))[0].n;
      expect(sessionsAfter).toBe(sessionsBefore);
      // A wrong password still answers the ordinary 401: the MFA branch is reached only with the right one.
      expectProblem(await login(t, user.email, 'not the password at all'), 401);
    });

    it('6.3.1/7.2.3: the mfaToken is opaque (≥ 256 bits), stored only hashed, and lives 5 minutes', async () => {
      const user = await enrolledUser();
      const token = await mfaToken(user);
      expect(Buffer.from(token, 'base64url').length).toBeGreaterThanOrEqual(32);
      const rows: { token_hash: string; ttl: number; attempts: number; used_at: Date | null }[] = await em(t).execute(
        'SELECT token_hash, extract(epoch FROM expires_at - created_at)::float AS ttl, attempts, used_at FROM mfa_challenges WHERE user_id = ?',
        [user.id],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].token_hash).not.toContain(token);
      expect(rows[0].ttl).toBeGreaterThan(295);
      expect(rows[0].ttl).toBeLessThanOrEqual(301);
      expect(rows[0]).toMatchObject({ attempts: 0, used_at: null });
    });
  });

  describe('/mfa/verify', () => {
    it('7.2.4: a TOTP code completes the sign-in: a token pair whose access token carries amr ["pwd","otp"] and a new session id', async () => {
      const user = await enrolledUser();
      const token = await mfaToken(user);
      await steadyStep(3);
      const res = await verify({ mfaToken: token, code: totp(user.secret) });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(['accessToken', 'expiresIn', 'refreshToken', 'tokenType']);
      expect(body.tokenType).toBe('Bearer');
      const claims = decodeJwt(body.accessToken);
      expect(claims).toMatchObject({ sub: user.id, amr: ['pwd', 'otp'] });
      const who = await whoami(body.accessToken);
      expect(who.statusCode).toBe(200);
      expect(who.json()).toMatchObject({ userId: user.id, amr: ['pwd', 'otp'], sessionId: claims.sid });
      const [session] = await em(t).execute('SELECT amr FROM sessions WHERE id = ?', [claims.sid]);
      expect(session.amr).toEqual(['pwd', 'otp']);
      // Refreshing keeps the second factor in the session.
      const refreshed = await post('/api/v1/auth/refresh', { refreshToken: body.refreshToken });
      expect(refreshed.statusCode).toBe(200);
      expect(decodeJwt(refreshed.json().accessToken)).toMatchObject({ sid: claims.sid, amr: ['pwd', 'otp'] });
      // A second sign-in is a second session.
      const again = await verify({ mfaToken: await mfaToken(user), code: totp(user.secret, 1) });
      expect(again.statusCode).toBe(200);
      expect(decodeJwt(again.json().accessToken).sid).not.toBe(claims.sid);
      const audit = await auditOf(user.id, 'auth.mfa.verified');
      expect(audit).toHaveLength(2);
      expect(audit[0]).toMatchObject({ outcome: 'success', actor_id: user.id });
      // 16.3.1: a sign-in completed by its second step is also the auth.login.succeeded of API.md, with its amr.
      const succeeded = await auditOf(user.id, 'auth.login.succeeded');
      expect(succeeded).toHaveLength(2);
      expect(succeeded[0]).toMatchObject({ outcome: 'success', actor_id: user.id, details: expect.objectContaining({ amr: ['pwd', 'otp'], sessionId: claims.sid }) });
    });

    it('6.5.5: RFC 6238 — the previous and the next step are accepted, two steps away is refused', async () => {
      const user = await enrolledUser();
      const tokens = await Promise.all(Array.from({ length: 5 }, () => mfaToken(user)));
      await steadyStep(4);
      expectProblem(await verify({ mfaToken: tokens[0], code: totp(user.secret, -2) }), 401);
      expectProblem(await verify({ mfaToken: tokens[1], code: totp(user.secret, 2) }), 401);
      expect((await verify({ mfaToken: tokens[2], code: totp(user.secret, -1) })).statusCode).toBe(200);
      expect((await verify({ mfaToken: tokens[3], code: totp(user.secret, 0) })).statusCode).toBe(200);
      expect((await verify({ mfaToken: tokens[4], code: totp(user.secret, 1) })).statusCode).toBe(200);
    });

    it('6.5.1: a time step is accepted once — the same code again (new mfaToken) is 401, and so is an older step after a newer one', async () => {
      const user = await enrolledUser();
      await steadyStep(3);
      const code = totp(user.secret, 0);
      expect((await verify({ mfaToken: await mfaToken(user), code })).statusCode).toBe(200);
      const replay = await verify({ mfaToken: await mfaToken(user), code });
      expectProblem(replay, 401);
      expect(replay.json().detail).toBe('Invalid or expired code');
      expect((await verify({ mfaToken: await mfaToken(user), code: totp(user.secret, 1) })).statusCode).toBe(200);
      // Step 0 is older than the last accepted one: refused even though it was within the window.
      expectProblem(await verify({ mfaToken: await mfaToken(user), code: totp(user.secret, 0) }), 401);
      const failures = await auditOf(user.id, 'auth.mfa.failed');
      expect(failures).toHaveLength(2);
      expect(failures.map((f) => f.details)).toEqual([
        { method: 'totp', reason: 'wrong_code' },
        { method: 'totp', reason: 'wrong_code' },
      ]);
    });

    it('6.5.1: two sign-ins racing with the same code — exactly one wins', async () => {
      const user = await enrolledUser();
      const tokens = await Promise.all([mfaToken(user), mfaToken(user), mfaToken(user)]);
      await steadyStep(3);
      const code = totp(user.secret);
      const results = await Promise.all(tokens.map((mfa) => verify({ mfaToken: mfa, code })));
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 401, 401]);
      const [{ n }] = await em(t).execute(`SELECT count(*)::int AS n FROM sessions WHERE user_id = ? AND amr @> '["otp"]'`, [user.id]);
      expect(n).toBe(1);
    });

    it('6.5.1: a recovery code signs in once (amr gets otp); its second use is 401, the other codes still work', async () => {
      const user = await enrolledUser();
      const [first, second] = user.recoveryCodes;
      const res = await verify({ mfaToken: await mfaToken(user), recoveryCode: first });
      expect(res.statusCode).toBe(200);
      expect(decodeJwt(res.json().accessToken)).toMatchObject({ sub: user.id, amr: ['pwd', 'otp'] });
      expectProblem(await verify({ mfaToken: await mfaToken(user), recoveryCode: first }), 401);
      // Typed as a person might: lower case, without the dashes.
      const relaxed = await verify({ mfaToken: await mfaToken(user), recoveryCode: second.replace(/-/g, '').toLowerCase() });
      expect(relaxed.statusCode).toBe(200);
      const [{ n }] = await em(t).execute('SELECT count(*)::int AS n FROM recovery_codes WHERE user_id = ? AND used_at IS NOT NULL', [user.id]);
      expect(n).toBe(2);
      const failures = await auditOf(user.id, 'auth.mfa.failed');
      expect(failures).toHaveLength(1);
      expect(failures[0].details).toEqual({ method: 'recovery_code', reason: 'wrong_code' });
      expect(JSON.stringify(failures)).not.toContain(first);
    });

    it('6.5.2: a recovery code is found by its identifier and checked with ONE hash — not one per code of the set; an unknown identifier costs the same one hash', async () => {
      const user = await enrolledUser();
      const hasher = t.app.get(PasswordHasher);
      const token = await mfaToken(user);
      const verifySpy = jest.spyOn(hasher, 'verify');
      try {
        // The last code of the set: the old path hashed every unused code to find it.
        const res = await verify({ mfaToken: token, recoveryCode: user.recoveryCodes[9] });
        expect(res.statusCode).toBe(200);
        expect(verifySpy).toHaveBeenCalledTimes(1);
        const identifiers = new Set(user.recoveryCodes.map((c) => c.slice(0, 4)));
        const unknown = ['ZZZZ', 'YYYY', 'XXXX'].find((id) => !identifiers.has(id))!;
        const next = await mfaToken(user);
        verifySpy.mockClear();
        expectProblem(await verify({ mfaToken: next, recoveryCode: `${unknown}-${user.recoveryCodes[0].slice(5)}` }), 401);
        expect(verifySpy).toHaveBeenCalledTimes(1);
      } finally {
        verifySpy.mockRestore();
      }
    });

    it('6.5.2: codes issued before identifiers (XXXX-XXXX-XXXX, stored without one) still work once, the old way, until the set is regenerated', async () => {
      const user = await enrolledUser();
      const hasher = t.app.get(PasswordHasher);
      const legacy = ['ABCD-EFGH-JKMN', 'PQRS-TVWX-YZ01'];
      for (const code of legacy) {
        await em(t).execute('INSERT INTO recovery_codes (id, user_id, code_hash) VALUES (gen_random_uuid(), ?, ?)', [user.id, await hasher.hash(code)]);
      }
      const res = await verify({ mfaToken: await mfaToken(user), recoveryCode: 'pqrstvwxyz01' });
      expect(res.statusCode).toBe(200);
      expectProblem(await verify({ mfaToken: await mfaToken(user), recoveryCode: legacy[1] }), 401);
      expect((await verify({ mfaToken: await mfaToken(user), recoveryCode: legacy[0] })).statusCode).toBe(200);
    });

    it('6.5.1: two sign-ins racing with the same recovery code — exactly one wins', async () => {
      const user = await enrolledUser();
      const tokens = await Promise.all([mfaToken(user), mfaToken(user), mfaToken(user)]);
      const recoveryCode = user.recoveryCodes[3];
      const results = await Promise.all(tokens.map((mfa) => verify({ mfaToken: mfa, recoveryCode })));
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 401, 401]);
      const [{ n }] = await em(t).execute('SELECT count(*)::int AS n FROM recovery_codes WHERE user_id = ? AND used_at IS NOT NULL', [user.id]);
      expect(n).toBe(1);
    });

    it('7.2.4/3.3.1: cookie mode — /mfa/verify?mode=cookie answers {csrfToken, expiresIn} and sets __Host-sid, a session with amr ["pwd","otp"]', async () => {
      const user = await enrolledUser();
      const first = await login(t, user.email, user.password, 'cookie');
      expect(first.json()).toMatchObject({ mfaRequired: true });
      await steadyStep(3);
      expectProblem(await verify({ mfaToken: first.json().mfaToken, code: totp(user.secret) }, '?mode=jar'), 400, 'urn:bastion:problem:validation');
      const res = await verify({ mfaToken: first.json().mfaToken, code: totp(user.secret) }, '?mode=cookie');
      expect(res.statusCode).toBe(200);
      expect(Object.keys(res.json()).sort()).toEqual(['csrfToken', 'expiresIn']);
      expect(res.json().expiresIn).toBe(t.config.sessions.idleTtl);
      expect(res.body).not.toMatch(/accessToken|refreshToken/);
      const raw = res.headers['set-cookie'];
      const header = (Array.isArray(raw) ? raw : [raw]).find((c) => c?.startsWith(`${COOKIE}=`))!;
      expect(header.split(';').map((a) => a.trim().toLowerCase())).toEqual(expect.arrayContaining(['path=/', 'httponly', 'secure', 'samesite=strict']));
      const cookie = decodeURIComponent(header.split(';')[0].slice(COOKIE.length + 1));
      const who = await t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: { cookie: `${COOKIE}=${cookie}` } });
      expect(who.statusCode).toBe(200);
      expect(who.json()).toMatchObject({ userId: user.id, amr: ['pwd', 'otp'] });
      const csrf = await t.app.inject({ method: 'GET', url: '/api/v1/auth/csrf', headers: { cookie: `${COOKIE}=${cookie}` } });
      expect(csrf.json()).toEqual({ csrfToken: res.json().csrfToken });
    });
  });

  describe('the mfaToken', () => {
    it('6.5.1: is single use — after a successful verify it is 401 even with the next valid code', async () => {
      const user = await enrolledUser();
      const token = await mfaToken(user);
      await steadyStep(3);
      expect((await verify({ mfaToken: token, code: totp(user.secret, 0) })).statusCode).toBe(200);
      expectProblem(await verify({ mfaToken: token, code: totp(user.secret, 1) }), 401);
      expectProblem(await verify({ mfaToken: token, recoveryCode: user.recoveryCodes[0] }), 401);
      // The refusals did not spend the factors: they still work with a fresh mfaToken.
      expect((await verify({ mfaToken: await mfaToken(user), code: totp(user.secret, 1) })).statusCode).toBe(200);
      expect((await verify({ mfaToken: await mfaToken(user), recoveryCode: user.recoveryCodes[0] })).statusCode).toBe(200);
    });

    it('6.3.1: allows 5 tries — after 5 wrong codes even the right code fails on it (also once the account is unlocked)', async () => {
      const user = await enrolledUser();
      const token = await mfaToken(user);
      for (let i = 0; i < 5; i++) expectProblem(await verify({ mfaToken: token, code: wrongCode(user.secret) }), 401);
      await steadyStep(3);
      expectProblem(await verify({ mfaToken: token, code: totp(user.secret) }), 401);
      // 5 failures also locked the account (LOCKOUT_THRESHOLD 5); with the lock lifted the token stays spent.
      const unlock = await post(`/api/v1/users/${user.id}/unlock`, {}, bearer(adminToken));
      expect(unlock.statusCode).toBe(204);
      expectProblem(await verify({ mfaToken: token, code: totp(user.secret) }), 401);
      const [{ attempts }] = await em(t).execute('SELECT attempts FROM mfa_challenges WHERE user_id = ?', [user.id]);
      expect(attempts).toBe(5);
      // The code itself was never consumed: a new sign-in accepts it.
      expect((await verify({ mfaToken: await mfaToken(user), code: totp(user.secret) })).statusCode).toBe(200);
    });

    it('6.3.1: the 5 tries hold under concurrency — 12 parallel guesses on one mfaToken are counted as 5', async () => {
      const user = await enrolledUser();
      const token = await mfaToken(user);
      const near = new Set([-1, 0, 1].map((s) => totp(user.secret, s)));
      const guesses = Array.from({ length: 12 }, (_, i) => String(100000 + i * 7919)).filter((c) => !near.has(c));
      const results = await Promise.all(guesses.map((code) => verify({ mfaToken: token, code })));
      expect(new Set(results.map((r) => r.statusCode))).toEqual(new Set([401]));
      const [{ attempts }] = await em(t).execute('SELECT attempts FROM mfa_challenges WHERE user_id = ?', [user.id]);
      expect(attempts).toBe(5);
      expect(await auditOf(user.id, 'auth.mfa.failed')).toHaveLength(5);
    });

    it('6.5.1: single use holds under a race — one mfaToken verified twice at once with two valid codes gives one session', async () => {
      const user = await enrolledUser();
      const token = await mfaToken(user);
      await steadyStep(3);
      const results = await Promise.all([0, 1].map((step) => verify({ mfaToken: token, code: totp(user.secret, step) })));
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 401]);
      const [{ n }] = await em(t).execute(`SELECT count(*)::int AS n FROM sessions WHERE user_id = ?`, [user.id]);
      expect(n).toBe(1);
    });

    it('6.3.1: expires after 5 minutes — an expired token is 401 with the right code', async () => {
      const user = await enrolledUser();
      const token = await mfaToken(user);
      await em(t).execute(`UPDATE mfa_challenges SET expires_at = now() - interval '1 second' WHERE user_id = ?`, [user.id]);
      await steadyStep(3);
      expectProblem(await verify({ mfaToken: token, code: totp(user.secret) }), 401);
      expectProblem(await verify({ mfaToken: token, recoveryCode: user.recoveryCodes[0] }), 401);
      expect((await verify({ mfaToken: await mfaToken(user), code: totp(user.secret) })).statusCode).toBe(200);
    });

    it('9.2.2: can never be used as a bearer token, a session cookie or a refresh token; an access token is no mfaToken', async () => {
      const user = await enrolledUser();
      const token = await mfaToken(user);
      const asBearer = await whoami(token);
      expectProblem(asBearer, 401);
      expect(asBearer.headers['www-authenticate']).toMatch(/^Bearer/);
      expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: { cookie: `${COOKIE}=${token}` } }), 401);
      expectProblem(await post('/api/v1/auth/refresh', { refreshToken: token }), 401);
      // The other way round: an access token of the same user does not stand in for the mfaToken.
      await steadyStep(3);
      const signedIn = await verify({ mfaToken: token, code: totp(user.secret) });
      expect(signedIn.statusCode).toBe(200);
      const { accessToken, refreshToken } = signedIn.json();
      for (const notAnMfaToken of [accessToken, refreshToken]) {
        const res = await verify({ mfaToken: notAnMfaToken, code: totp(user.secret, 1) });
        expect([400, 401]).toContain(res.statusCode);
        expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      }
      // The step those attempts offered is still unused: nothing was consumed through them.
      expect((await verify({ mfaToken: await mfaToken(user), code: totp(user.secret, 1) })).statusCode).toBe(200);
    });

    it('6.3.8: an unknown token is 401, the same answer as a wrong code', async () => {
      const user = await enrolledUser();
      const unknown = await verify({ mfaToken: Buffer.alloc(32, 7).toString('base64url'), code: '123456' });
      const wrong = await verify({ mfaToken: await mfaToken(user), code: wrongCode(user.secret) });
      expectProblem(unknown, 401);
      expectProblem(wrong, 401);
      expect(unknown.json().detail).toBe(wrong.json().detail);
    });
  });

  describe('brute force and lockout (ASVS 6.3.1, 16.3.1)', () => {
    it('6.3.1/16.3.1: 5 wrong second factors lock the account — the right password then gets the ordinary 401 — and each is audited auth.mfa.failed without the code', async () => {
      const user = await enrolledUser();
      const token = await mfaToken(user);
      const wrong = wrongCode(user.secret);
      for (let i = 0; i < 4; i++) expectProblem(await verify({ mfaToken: token, code: wrong }), 401);
      expectProblem(await verify({ mfaToken: token, recoveryCode: 'ZZZZ-ZZZZ-ZZZZ' }), 401);
      const state = await lockState(user.id);
      expect(state.locked_until).not.toBeNull();
      expect(new Date(state.locked_until!).getTime()).toBeGreaterThan(Date.now());
      const locked = await login(t, user.email, user.password);
      const badPassword = await login(t, user.email, 'certainly not the password');
      expectProblem(locked, 401);
      expect(locked.json()).toEqual(badPassword.json());

      const failures = await auditOf(user.id, 'auth.mfa.failed');
      expect(failures).toHaveLength(5);
      for (const f of failures) expect(f).toMatchObject({ outcome: 'failure', actor_id: user.id });
      expect(failures.map((f) => f.details.method)).toEqual(['totp', 'totp', 'totp', 'totp', 'recovery_code']);
      expect(JSON.stringify(failures)).not.toContain(wrong);
      expect(JSON.stringify(failures)).not.toContain(token);
      expect(await auditOf(user.id, 'auth.lockout')).toHaveLength(1);
    });

    it('6.3.1: a locked account gets no session even with the right code on an mfaToken it already holds', async () => {
      const user = await enrolledUser();
      const held = await mfaToken(user);
      const token = await mfaToken(user);
      for (let i = 0; i < 5; i++) await verify({ mfaToken: token, code: wrongCode(user.secret) });
      await steadyStep(3);
      expectProblem(await verify({ mfaToken: held, code: totp(user.secret) }), 401);
      const [{ n }] = await em(t).execute(`SELECT count(*)::int AS n FROM sessions WHERE user_id = ? AND amr @> '["otp"]'`, [user.id]);
      expect(n).toBe(0);
      expect((await auditOf(user.id, 'auth.mfa.failed')).at(-1)?.details).toEqual({ method: 'totp', reason: 'locked' });
    });

    it('6.3.1: failures add up across mfaTokens — signing in again with the password does not reset the count of wrong codes', async () => {
      const user = await enrolledUser();
      const first = await mfaToken(user);
      for (let i = 0; i < 3; i++) expectProblem(await verify({ mfaToken: first, code: wrongCode(user.secret) }), 401);
      const second = await mfaToken(user);
      for (let i = 0; i < 2; i++) expectProblem(await verify({ mfaToken: second, code: wrongCode(user.secret) }), 401);
      // 5 consecutive wrong codes: the account is locked, the password alone no longer opens a challenge.
      expect((await lockState(user.id)).locked_until).not.toBeNull();
      expectProblem(await login(t, user.email, user.password), 401);
    });

    it('6.3.1: a successful second factor resets the consecutive-failure count', async () => {
      const user = await enrolledUser();
      const token = await mfaToken(user);
      for (let i = 0; i < 3; i++) await verify({ mfaToken: token, code: wrongCode(user.secret) });
      expect((await lockState(user.id)).failed_login_count).toBe(3);
      await steadyStep(3);
      expect((await verify({ mfaToken: token, code: totp(user.secret) })).statusCode).toBe(200);
      expect((await lockState(user.id)).failed_login_count).toBe(0);
    });
  });

  it('6.4.3: a password reset never disables MFA — the next login still asks for the second factor', async () => {
    const user = await enrolledUser();
    expect((await post('/api/v1/auth/password/forgot', { email: user.email })).statusCode).toBe(202);
    const mail = await sink.waitFor((m) => m.to.includes(user.email) && m.subject === 'Reset your password', 15_000);
    const reset = await post('/api/v1/auth/password/reset', { token: extractToken(mail, '/reset-password'), newPassword: NEW_PASSWORD });
    expect(reset.statusCode).toBe(204);
    const res = await login(t, user.email, NEW_PASSWORD);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ mfaRequired: true, mfaToken: expect.any(String), methods: ['totp', 'recovery_code'] });
    const [factor] = await em(t).execute('SELECT status FROM totp_factors WHERE user_id = ?', [user.id]);
    expect(factor.status).toBe('active');
    const [{ n }] = await em(t).execute('SELECT count(*)::int AS n FROM recovery_codes WHERE user_id = ? AND used_at IS NULL', [user.id]);
    expect(n).toBe(10);
    await steadyStep(3);
    const signedIn = await verify({ mfaToken: res.json().mfaToken, code: totp(user.secret) });
    expect(signedIn.statusCode).toBe(200);
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(signedIn.json().accessToken) });
    expect(me.json()).toMatchObject({ id: user.id, mfaEnabled: true });
  });

  describe('bad input is 400 (or 401), problem+json, never 500', () => {
    let user: Enrolled;
    let token: string;
    beforeAll(async () => {
      user = await enrolledUser();
      token = await mfaToken(user);
    });

    const validation: [string, (mfa: string) => unknown, string][] = [
      ['a 5-digit code', (m) => ({ mfaToken: m, code: '12345' }), 'code'],
      ['a 7-digit code', (m) => ({ mfaToken: m, code: '1234567' }), 'code'],
      ['letters', (m) => ({ mfaToken: m, code: 'abcdef' }), 'code'],
      ['a code with a space inside', (m) => ({ mfaToken: m, code: '123 456' }), 'code'],
      ['a code with surrounding spaces', (m) => ({ mfaToken: m, code: ' 123456 ' }), 'code'],
      ['a code with a newline', (m) => ({ mfaToken: m, code: '123456\n' }), 'code'],
      ['non-ASCII digits', (m) => ({ mfaToken: m, code: '١٢٣٤٥٦' }), 'code'],
      ['a number instead of a string', (m) => ({ mfaToken: m, code: 123456 }), 'code'],
      ['an empty code', (m) => ({ mfaToken: m, code: '' }), 'code'],
      ['null as the code', (m) => ({ mfaToken: m, code: null }), 'code'],
      ['an array as the code', (m) => ({ mfaToken: m, code: ['123456'] }), 'code'],
      ['a very long code', (m) => ({ mfaToken: m, code: '1'.repeat(100_000) }), 'code'],
      ['neither code nor recoveryCode', (m) => ({ mfaToken: m }), 'code'],
      ['both code and recoveryCode', (m) => ({ mfaToken: m, code: '123456', recoveryCode: 'ABCD-EFGH-JKMN' }), 'recoveryCode'],
      ['a missing mfaToken', () => ({ code: '123456' }), 'mfaToken'],
      ['an empty mfaToken', () => ({ mfaToken: '', code: '123456' }), 'mfaToken'],
      ['a number as mfaToken', () => ({ mfaToken: 12345, code: '123456' }), 'mfaToken'],
      ['an object as mfaToken', () => ({ mfaToken: { $ne: null }, code: '123456' }), 'mfaToken'],
      ['a very long mfaToken', () => ({ mfaToken: 'x'.repeat(10_000), code: '123456' }), 'mfaToken'],
      ['a recovery code that is too short', (m) => ({ mfaToken: m, recoveryCode: 'ABCD-EFGH' }), 'recoveryCode'],
      ['a recovery code with underscores', (m) => ({ mfaToken: m, recoveryCode: 'ABCD_EFGH_JKMN' }), 'recoveryCode'],
      ['a recovery code with spaces', (m) => ({ mfaToken: m, recoveryCode: 'ABCD EFGH JKMN' }), 'recoveryCode'],
      ['a recovery code with symbols', (m) => ({ mfaToken: m, recoveryCode: "AB'D-EF;H-JK--" }), 'recoveryCode'],
      ['a number as the recovery code', (m) => ({ mfaToken: m, recoveryCode: 123456789012 }), 'recoveryCode'],
      ['a very long recovery code', (m) => ({ mfaToken: m, recoveryCode: 'ABCD-'.repeat(20_000) }), 'recoveryCode'],
      ['an unknown field', (m) => ({ mfaToken: m, code: '123456', remember: true }), 'remember'],
    ];
    it.each(validation)('2.2.1: %s → 400 validation naming the field', async (_name, body, field) => {
      const res = await verify(body(token));
      expectProblem(res, 400, 'urn:bastion:problem:validation');
      expect(res.json().errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it.each([
      ['a JSON array', '[]'],
      ['a JSON string', '"123456"'],
      ['null', 'null'],
      ['broken JSON', '{"mfaToken":'],
    ])('2.2.1: a body that is %s → 400', async (_name, raw) => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/verify', headers: { 'content-type': 'application/json' }, payload: raw });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(res.json()).toMatchObject({ status: 400, type: expect.stringMatching(/^(about:blank|urn:bastion:problem:validation)$/) });
    });

    it('2.2.1/6.3.1: none of the refused inputs used up an attempt; well-formed but wrong input is 401 and does', async () => {
      const [{ attempts }] = await em(t).execute('SELECT attempts FROM mfa_challenges WHERE user_id = ?', [user.id]);
      expect(attempts).toBe(0);
      expectProblem(await verify({ mfaToken: 'not-a-token-we-issued', code: '123456' }), 401);
      expectProblem(await verify({ mfaToken: token, recoveryCode: 'abcd-efgh-jkmn' }), 401);
      const [after] = await em(t).execute('SELECT attempts FROM mfa_challenges WHERE user_id = ?', [user.id]);
      expect(after.attempts).toBe(1);
      await steadyStep(3);
      expect((await verify({ mfaToken: token, code: totp(user.secret) })).statusCode).toBe(200);
    });
  });
});
