import { bearer, createUser, login, loginTokens } from '../support/auth-helpers';
import { createTestApp, type TestApp } from '../support/test-app';

describe('password sign-in smoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('logs in, answers whoami and /users/me, refreshes and logs out', async () => {
    const user = await createUser(t);
    const tokens = await loginTokens(t, user);
    const who = await t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: bearer(tokens.accessToken) });
    expect(who.statusCode).toBe(200);
    expect(who.json()).toMatchObject({ userId: user.id, amr: ['pwd'], roles: ['viewer'], departmentId: null });
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(tokens.accessToken) });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ id: user.id, email: user.email, status: 'active', roles: ['viewer'], mfaEnabled: false });
    const refreshed = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: tokens.refreshToken } });
    expect(refreshed.statusCode).toBe(200);
    const out = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(refreshed.json().accessToken) });
    expect(out.statusCode).toBe(204);
    const after = await t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: bearer(refreshed.json().accessToken) });
    expect(after.statusCode).toBe(401);
    const wrong = await login(t, user.email, 'not the password at all');
    expect(wrong.statusCode).toBe(401);
  });
});
