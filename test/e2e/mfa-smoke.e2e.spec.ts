import { bearer, createUser, login, loginTokens } from '../support/auth-helpers';
import { createTestApp, type TestApp } from '../support/test-app';
import { secondsLeftInStep, totp } from '../support/totp';

describe('MFA smoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('enrols, then login asks for the second factor, and a code completes it once', async () => {
    // The test uses the current and the next step: start well inside a step.
    if (secondsLeftInStep() < 8) await new Promise((r) => setTimeout(r, secondsLeftInStep() * 1000 + 100));
    const user = await createUser(t);
    const tokens = await loginTokens(t, user);
    const setup = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/setup', headers: bearer(tokens.accessToken), payload: { password: user.password } });
    expect(setup.statusCode).toBe(200);
    const { secret, otpauthUri, qrCodeDataUrl } = setup.json();
    expect(otpauthUri).toContain('otpauth://totp/');
    expect(qrCodeDataUrl).toMatch(/^data:image\/png;base64,/);
    const enable = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/enable', headers: bearer(tokens.accessToken), payload: { code: totp(secret) } });
    expect(enable.statusCode).toBe(200);
    expect(enable.json().recoveryCodes).toHaveLength(10);
    const first = await login(t, user.email, user.password);
    expect(first.json()).toMatchObject({ mfaRequired: true, methods: ['totp', 'recovery_code'] });
    const replay = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/verify', payload: { mfaToken: first.json().mfaToken, code: totp(secret) } });
    expect(replay.statusCode).toBe(401);
    const next = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/verify', payload: { mfaToken: first.json().mfaToken, code: totp(secret, 1) } });
    expect(next.statusCode).toBe(200);
    const who = await t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: bearer(next.json().accessToken) });
    expect(who.json().amr).toEqual(['pwd', 'otp']);
    const second = await login(t, user.email, user.password);
    const recovery = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/verify', payload: { mfaToken: second.json().mfaToken, recoveryCode: enable.json().recoveryCodes[0] } });
    expect(recovery.statusCode).toBe(200);
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(recovery.json().accessToken) });
    expect(me.json().mfaEnabled).toBe(true);
  });
});
