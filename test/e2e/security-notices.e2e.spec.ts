import { bearer, createUser, em, login, loginTokens, STRONG_PASSWORD, uniqueEmail } from '../support/auth-helpers';
import { seedTotp } from '../support/mfa-helpers';
import { extractToken, type SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { createTestApp, type TestApp } from '../support/test-app';

const NOTICE = 'Security notice for your account';

describe('ASVS 6.3.7 security notices, and the change of email through the API', () => {
  let t: TestApp;
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({ env: { SMTP_URL: sink.url } });
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  const noticesOf = async (userId: string) => {
    const rows: { outcome: string; details: { event: string } }[] = await em(t).execute(
      "SELECT outcome, details FROM audit_events WHERE type = 'mail.security_notice' AND target_id = ? ORDER BY at",
      [userId],
    );
    return rows.map((r) => `${r.outcome}:${r.details.event}`);
  };

  it('ASVS 6.3.7: a password reset mails a notice with the time, IP and user agent, audited', async () => {
    const user = await createUser(t);
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/password/forgot', payload: { email: user.email } });
    const token = extractToken(await sink.next(user.email, 'Reset your password'), '/reset-password');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password/reset',
      headers: { 'user-agent': 'NoticeTest/2.0' },
      payload: { token, newPassword: 'an entirely new passphrase' },
    });
    expect(res.statusCode).toBe(204);
    const mail = await sink.next(user.email, NOTICE);
    expect(mail.text).toContain('The password of your account was reset');
    expect(mail.text).toMatch(/When: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT/);
    expect(mail.text).toContain('NoticeTest/2.0');
    expect(mail.text).toContain('From: IP address 127.0.0.1');
    expect(mail.text).toContain(`${t.config.appUrl}/account`);
    expect(mail.text).not.toContain(token);
    expect(await noticesOf(user.id)).toEqual(['success:password_reset']);
  });

  it('ASVS 6.3.7: an admin resetting MFA mails the user', async () => {
    const admin = await createUser(t, { roles: ['admin'] });
    const user = await createUser(t);
    await seedTotp(t, user.id);
    const { accessToken } = await loginTokens(t, admin);
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/users/${user.id}/mfa/reset`, headers: bearer(accessToken) });
    expect(res.statusCode).toBe(204);
    expect((await sink.next(user.email, NOTICE)).text).toContain('An administrator reset the two-step verification');
    expect(await noticesOf(user.id)).toEqual(['success:mfa_reset']);
  });

  it('POST /users/me/email answers 202 alike for a free and a taken address; /auth/confirm-email moves the account and ends its sessions', async () => {
    const user = await createUser(t);
    const taken = await createUser(t);
    const { accessToken } = await loginTokens(t, user);
    const change = (newEmail: string, currentPassword = user.password) =>
      t.app.inject({ method: 'POST', url: '/api/v1/users/me/email', headers: bearer(accessToken), payload: { newEmail, currentPassword } });
    const wrong = await change(uniqueEmail('x'), 'not the password!!');
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().type).toBe('urn:bastion:problem:invalid-password');
    expect(wrong.json().errors).toEqual([{ field: 'currentPassword', message: 'is not correct' }]);
    const fresh = uniqueEmail('api-moved');
    const [a, b] = [await change(taken.email), await change(fresh)];
    expect([a.statusCode, a.body]).toEqual([b.statusCode, b.body]);
    expect(b.statusCode).toBe(202);
    const token = extractToken(await sink.next(fresh, 'Confirm your new email address'), '/confirm-email');
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/confirm-email', payload: { token } })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/confirm-email', payload: { token } })).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: bearer(accessToken) })).statusCode).toBe(401);
    expect((await sink.next(user.email, NOTICE)).text).toContain('The email address of your account was changed');
    expect((await login(t, fresh, STRONG_PASSWORD)).statusCode).toBe(200);
    expect(await noticesOf(user.id)).toEqual(['success:email_changed']);
  });

  it('a confirmation link for an address taken meanwhile is refused and changes nothing', async () => {
    const user = await createUser(t);
    const { accessToken } = await loginTokens(t, user);
    const target = uniqueEmail('race');
    await t.app.inject({ method: 'POST', url: '/api/v1/users/me/email', headers: bearer(accessToken), payload: { newEmail: target, currentPassword: user.password } });
    const token = extractToken(await sink.next(target, 'Confirm your new email address'), '/confirm-email');
    await createUser(t, { email: target });
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/confirm-email', payload: { token } })).statusCode).toBe(400);
    const [row] = await em(t).execute('SELECT email FROM users WHERE id = ?', [user.id]);
    expect(row.email).toBe(user.email);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: bearer(accessToken) })).statusCode).toBe(200);
  });
});
