import { GoogleIdp } from '../support/google-idp';
import { bearer } from '../support/auth-helpers';
import { createTestApp, type TestApp } from '../support/test-app';

describe('Google sign-in smoke', () => {
  const idp = new GoogleIdp();
  let t: TestApp;
  beforeAll(async () => {
    await idp.start();
    t = await createTestApp({ env: idp.env() });
  });
  afterAll(async () => {
    await t.close();
    await idp.stop();
  });

  it('starts with state + PKCE, finishes with a new verified user, header-only userinfo', async () => {
    const start = await t.app.inject({ method: 'GET', url: '/api/v1/auth/google' });
    expect(start.statusCode).toBe(302);
    const location = new URL(start.headers.location as string);
    expect(location.searchParams.get('response_type')).toBe('code');
    expect(location.searchParams.get('scope')).toBe('openid email profile');
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    const state = location.searchParams.get('state')!;
    const cookie = String(start.headers['set-cookie']).split(';')[0];
    expect(cookie).toMatch(/^bastion_oauth=/);
    // The browser follows the redirect to the identity provider, which redirects back with a code.
    const authorize = await fetch(location, { redirect: 'manual' });
    const back = new URL(authorize.headers.get('location')!);
    expect(back.searchParams.get('state')).toBe(state);
    const callback = await t.app.inject({ method: 'GET', url: `/api/v1/auth/google/callback${back.search}`, headers: { cookie } });
    expect(callback.statusCode).toBe(200);
    expect(callback.json().accessToken).toBeDefined();
    expect(idp.tokenRequests[0].body.code_verifier).toMatch(/^[A-Za-z0-9_~.-]{43,128}$/);
    expect(idp.userinfoRequests[0].authorization).toMatch(/^Bearer /);
    expect(idp.userinfoRequests[0].url).not.toContain('access_token');
    const who = await t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: bearer(callback.json().accessToken) });
    expect(who.json().amr).toEqual(['google']);
    const replay = await t.app.inject({ method: 'GET', url: `/api/v1/auth/google/callback${back.search}`, headers: { cookie } });
    expect(replay.statusCode).toBe(400);
  });
});
