import { bearer, createUser, em, login, loginTokens } from '../support/auth-helpers';
import { expectValidation, expectWrongCredential, PROBLEM_JSON } from '../support/problem-assertions';
import { createTestApp, type TestApp } from '../support/test-app';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const USER_KEYS = ['createdAt', 'departmentId', 'displayName', 'email', 'emailVerified', 'id', 'mfaEnabled', 'roles', 'status', 'updatedAt'];
const NEW_PASSWORD = 'my freshly changed passphrase';

const getMe = (t: TestApp, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers });
const patchMe = (t: TestApp, accessToken: string, payload: unknown) =>
  t.app.inject({ method: 'PATCH', url: '/api/v1/users/me', headers: bearer(accessToken), payload: payload as string });
const changePassword = (t: TestApp, accessToken: string, payload: Record<string, unknown>) =>
  t.app.inject({ method: 'POST', url: '/api/v1/users/me/password', headers: bearer(accessToken), payload });
const whoami = (t: TestApp, accessToken: string) => t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: bearer(accessToken) });

async function passwordHash(t: TestApp, userId: string): Promise<string> {
  const [row] = await em(t).execute('SELECT password_hash FROM users WHERE id = ?', [userId]);
  return row.password_hash;
}

describe('/users/me', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('GET returns exactly the API.md User shape, never a hash or secret', async () => {
    const user = await createUser(t);
    const { accessToken } = await loginTokens(t, user);
    const res = await getMe(t, bearer(accessToken));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(USER_KEYS);
    expect(body).toEqual({
      id: user.id,
      email: user.email,
      displayName: 'Test User',
      emailVerified: true,
      status: 'active',
      roles: ['viewer'],
      departmentId: null,
      mfaEnabled: false,
      createdAt: expect.stringMatching(ISO_UTC),
      updatedAt: expect.stringMatching(ISO_UTC),
    });
    expect(res.body).not.toMatch(/argon2|password|hash|secret|failedLogin|lockedUntil|deletedAt/i);
  });

  it('401 with WWW-Authenticate: Bearer and problem+json without (or with bad) credentials', async () => {
    const requests = [
      () => getMe(t),
      () => t.app.inject({ method: 'PATCH', url: '/api/v1/users/me', payload: { displayName: 'Anon' } }),
      () => t.app.inject({ method: 'POST', url: '/api/v1/users/me/password', payload: { currentPassword: 'x', newPassword: NEW_PASSWORD } }),
    ];
    for (const send of requests) {
      const res = await send();
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(res.json()).toMatchObject({ type: 'about:blank', status: 401 });
    }
    const forged = await getMe(t, bearer('not.a.jwt'));
    expect(forged.statusCode).toBe(401);
    expect(forged.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('PATCH displayName answers 200 with the updated User, and /me reflects it', async () => {
    const user = await createUser(t);
    const { accessToken } = await loginTokens(t, user);
    const before = (await getMe(t, bearer(accessToken))).json();
    await new Promise((resolve) => setTimeout(resolve, 5));

    const res = await patchMe(t, accessToken, { displayName: '  Grace Hopper  ' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(USER_KEYS);
    expect(body).toMatchObject({ ...before, displayName: 'Grace Hopper', updatedAt: expect.stringMatching(ISO_UTC) });
    expect(Date.parse(body.updatedAt)).toBeGreaterThan(Date.parse(before.updatedAt));

    expect((await getMe(t, bearer(accessToken))).json()).toEqual(body);
    const who = await whoami(t, accessToken);
    expect(who.statusCode).toBe(200);
    expect(who.json()).toMatchObject({ userId: user.id, roles: ['viewer'], departmentId: null });
    const [row] = await em(t).execute('SELECT display_name FROM users WHERE id = ?', [user.id]);
    expect(row.display_name).toBe('Grace Hopper');

    const [event] = await em(t).execute(`SELECT outcome, actor_id, details FROM audit_events WHERE type = 'user.updated' AND target_id = ?`, [user.id]);
    expect(event).toMatchObject({ outcome: 'success', actor_id: user.id, details: { fields: ['displayName'] } });
  });

  it('8.2.3: PATCH refuses roles, status, departmentId and email with 400 and changes nothing', async () => {
    const user = await createUser(t);
    const { accessToken } = await loginTokens(t, user);
    const before = (await getMe(t, bearer(accessToken))).json();
    const attempts: [string, Record<string, unknown>][] = [
      ['roles', { roles: ['admin'] }],
      ['status', { status: 'disabled' }],
      ['departmentId', { departmentId: '7f1f2d7e-6c1a-4b43-9a4e-0d8c7f3b2a11' }],
      ['email', { email: 'someone.else@example.com' }],
      ['emailVerified', { emailVerified: false }],
      ['id', { id: '7f1f2d7e-6c1a-4b43-9a4e-0d8c7f3b2a11' }],
    ];
    for (const [field, extra] of attempts) {
      expectValidation(await patchMe(t, accessToken, { displayName: 'Sneaky', ...extra }), field);
      expectValidation(await patchMe(t, accessToken, extra), field);
    }
    expect((await getMe(t, bearer(accessToken))).json()).toEqual(before);
    const who = await whoami(t, accessToken);
    expect(who.json()).toMatchObject({ roles: ['viewer'], departmentId: null });
  });

  it('PATCH refuses a blank, over-long, wrong-typed or missing displayName, and a non-object body', async () => {
    const user = await createUser(t);
    const { accessToken } = await loginTokens(t, user);
    for (const payload of [{ displayName: '   ' }, { displayName: 'x'.repeat(101) }, { displayName: 42 }, { displayName: null }, {}]) {
      expectValidation(await patchMe(t, accessToken, payload), 'displayName');
    }
    for (const raw of ['[]', '"Grace"', 'null']) {
      const res = await t.app.inject({
        method: 'PATCH',
        url: '/api/v1/users/me',
        headers: { ...bearer(accessToken), 'content-type': 'application/json' },
        payload: raw,
      });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    }
    expect((await getMe(t, bearer(accessToken))).json().displayName).toBe('Test User');
  });

  describe('POST /me/password', () => {
    it('a wrong currentPassword is 400 invalid-password (never 401), a missing one 400 validation, both naming currentPassword; nothing changes and the failure is audited', async () => {
      const user = await createUser(t);
      const { accessToken } = await loginTokens(t, user);
      const hash = await passwordHash(t, user.id);
      expectWrongCredential(await changePassword(t, accessToken, { currentPassword: 'definitely not it', newPassword: NEW_PASSWORD }), 'password', 'currentPassword');
      expectValidation(await changePassword(t, accessToken, { newPassword: NEW_PASSWORD }), 'currentPassword');
      expect(await passwordHash(t, user.id)).toBe(hash);
      expect((await whoami(t, accessToken)).statusCode).toBe(200);
      expect((await login(t, user.email, NEW_PASSWORD)).statusCode).toBe(401);

      const events: { outcome: string; details: Record<string, unknown> }[] = await em(t).execute(
        `SELECT outcome, details FROM audit_events WHERE type = 'auth.password.changed' AND target_id = ?`,
        [user.id],
      );
      expect(events).toEqual([{ outcome: 'failure', details: { reason: 'wrong_current_password' } }]);
    });

    it('6.2.x: a weak newPassword is 400 naming newPassword and nothing changes', async () => {
      const user = await createUser(t);
      const { accessToken } = await loginTokens(t, user);
      const hash = await passwordHash(t, user.id);
      for (const weak of ['short one', 'qwerty123456', `my ${user.email.split('@')[0]} pass`, 'n'.repeat(129), 'n'.repeat(10_000)]) {
        expectValidation(await changePassword(t, accessToken, { currentPassword: user.password, newPassword: weak }), 'newPassword');
      }
      for (const payload of [{ currentPassword: user.password }, { currentPassword: user.password, newPassword: NEW_PASSWORD, extra: 1 }]) {
        expect((await changePassword(t, accessToken, payload)).statusCode).toBe(400);
      }
      expect(await passwordHash(t, user.id)).toBe(hash);
      expect((await login(t, user.email, user.password)).statusCode).toBe(200);
    });

    it('7.4.3: success is 204, ends the other sessions (access and refresh tokens) and keeps the current one', async () => {
      const user = await createUser(t);
      const current = await loginTokens(t, user);
      const otherA = await loginTokens(t, user);
      const otherB = await loginTokens(t, user);

      const res = await changePassword(t, current.accessToken, { currentPassword: user.password, newPassword: NEW_PASSWORD });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');

      for (const other of [otherA, otherB]) {
        const refused = await whoami(t, other.accessToken);
        expect(refused.statusCode).toBe(401);
        expect(refused.headers['www-authenticate']).toMatch(/^Bearer/);
        expect((await getMe(t, bearer(other.accessToken))).statusCode).toBe(401);
        expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: other.refreshToken } })).statusCode).toBe(401);
      }
      expect((await whoami(t, current.accessToken)).statusCode).toBe(200);
      expect((await getMe(t, bearer(current.accessToken))).json().id).toBe(user.id);
      const renewed = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: current.refreshToken } });
      expect(renewed.statusCode).toBe(200);

      const live: { id: string }[] = await em(t).execute('SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [user.id]);
      expect(live).toHaveLength(1);

      expect((await login(t, user.email, user.password)).statusCode).toBe(401);
      expect((await login(t, user.email, NEW_PASSWORD)).statusCode).toBe(200);
    });

    it('16.3.1: audits auth.password.changed without any password or hash', async () => {
      const user = await createUser(t);
      const current = await loginTokens(t, user);
      await loginTokens(t, user);
      expect((await changePassword(t, current.accessToken, { currentPassword: user.password, newPassword: NEW_PASSWORD })).statusCode).toBe(204);
      const events: { outcome: string; actor_id: string; details: Record<string, unknown> }[] = await em(t).execute(
        `SELECT outcome, actor_id, details FROM audit_events WHERE type = 'auth.password.changed' AND target_id = ?`,
        [user.id],
      );
      expect(events).toEqual([{ outcome: 'success', actor_id: user.id, details: { otherSessionsEnded: 1 } }]);
      const hash = await passwordHash(t, user.id);
      const all: { details: Record<string, unknown> }[] = await em(t).execute('SELECT details FROM audit_events WHERE target_id = ?', [user.id]);
      for (const { details } of all) {
        const text = JSON.stringify(details);
        for (const secret of [NEW_PASSWORD, user.password, hash, '$argon2']) expect(text).not.toContain(secret);
      }
    });
  });
});

describe('/users/me/password and the lockout', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { LOCKOUT_THRESHOLD: '3' } });
  });
  afterAll(() => t.close());

  it('ASVS 6.1.1: wrong current passwords count toward the account lockout like failed sign-ins', async () => {
    const user = await createUser(t);
    const tokens = await loginTokens(t, user);
    for (let i = 0; i < 3; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/users/me/password',
        headers: bearer(tokens.accessToken),
        payload: { currentPassword: `wrong guess number ${i}`, newPassword: 'another fine passphrase here' },
      });
      expect(res.statusCode).toBe(400);
    }
    const [row] = await em(t).execute('SELECT locked_until FROM users WHERE id = ?', [user.id]);
    expect(new Date(row.locked_until).getTime()).toBeGreaterThan(Date.now());
    const locked = await login(t, user.email, user.password);
    expect(locked.statusCode).toBe(401);
    const right = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/me/password',
      headers: bearer(tokens.accessToken),
      payload: { currentPassword: user.password, newPassword: 'another fine passphrase here' },
    });
    // Locked: even the right password answers as a wrong one (no lock oracle, never a 401).
    expectWrongCredential(right, 'password', 'currentPassword');
  });
});
