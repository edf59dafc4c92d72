import { createUser, em, login, STRONG_PASSWORD, uniqueEmail } from '../support/auth-helpers';
import { seedTotp } from '../support/mfa-helpers';
import { csrfOf, PageClient } from '../support/page-client';
import { extractToken, type SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { createTestApp, type TestApp } from '../support/test-app';
import { steadyStep, totp } from '../support/totp';

const NOTICE = 'Security notice for your account';

describe('Hosted pages: /account', () => {
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

  async function signedIn(user: { email: string; password: string }, headers: Record<string, string> = {}): Promise<PageClient> {
    const browser = new PageClient(t, headers);
    await browser.get('/login');
    const res = await browser.post('/login', { email: user.email, password: user.password, return_to: '/account' });
    expect(res.statusCode).toBe(303);
    return browser;
  }

  it('without a session GET /account redirects to /login with return_to; a POST goes to /login', async () => {
    const browser = new PageClient(t);
    const res = await browser.get('/account');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/login?return_to=%2Faccount');
    const post = await browser.post('/account/profile', { _csrf: 'x', displayName: 'Nope' });
    expect(post.statusCode).toBe(303);
    expect(post.headers.location).toBe('/login');
  });

  it('shows the account with this session marked; the profile form saves; a CSRF-less POST changes nothing', async () => {
    const user = await createUser(t);
    const browser = await signedIn(user);
    const page = await browser.get('/account');
    expect(page.statusCode).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain(user.email);
    expect(page.body).toMatch(/<li aria-current="true">[\s\S]*?This session/);
    // The page's _csrf is the session's own token (the one cookie-mode API clients send).
    expect(csrfOf(page.body)).toBe((await browser.get('/api/v1/auth/csrf')).json().csrfToken);

    const refused = await browser.post('/account/profile', { _csrf: undefined, displayName: 'Mallory' });
    expect(refused.statusCode).toBe(403);
    await browser.get('/account');
    const saved = await browser.post('/account/profile', { displayName: '  Ada Lovelace ' });
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe('/account?done=profile');
    const [row] = await em(t).execute('SELECT display_name FROM users WHERE id = ?', [user.id]);
    expect(row.display_name).toBe('Ada Lovelace');
  });

  it('change password: a wrong current one is shown at its field; the right one changes it, ends other sessions, and mails a notice', async () => {
    const user = await createUser(t);
    const other = await signedIn(user);
    const browser = await signedIn(user, { 'user-agent': 'PageTest/1.0' });
    await browser.get('/account');
    const wrong = await browser.post('/account/password', { currentPassword: 'not my password at all', newPassword: 'a fresh new passphrase' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('<small id="f-currentPassword-error" class="error">This is not your current password.</small>');
    const done = await browser.post('/account/password', { currentPassword: user.password, newPassword: 'a fresh new passphrase' });
    expect(done.statusCode).toBe(303);
    expect((await other.get('/account')).statusCode).toBe(303);
    expect((await browser.get('/account')).statusCode).toBe(200);
    const notice = await sink.next(user.email, NOTICE);
    expect(notice.text).toContain('The password of your account was changed.');
    expect(notice.text).toContain('PageTest/1.0');
    expect(notice.text).toContain(`${t.config.appUrl}/account`);
    const audit: { details: { event: string } }[] = await em(t).execute("SELECT details FROM audit_events WHERE type = 'mail.security_notice' AND target_id = ?", [user.id]);
    expect(audit.map((a) => a.details.event)).toEqual(['password_changed']);
  });

  it('sessions: end another one, then all others; the API sees it', async () => {
    const user = await createUser(t);
    const apiCookie = async () => {
      const res = await login(t, user.email, user.password, 'cookie');
      return /__Host-sid=([^;]+)/.exec([res.headers['set-cookie']].flat().join(';'))![1];
    };
    const [a, b] = [await apiCookie(), await apiCookie()];
    const browser = await signedIn(user);
    const page = await browser.get('/account');
    const others = [...page.body.matchAll(/name="sessionId" value="([0-9a-f-]{36})"/g)].map((m) => m[1]);
    expect(others).toHaveLength(2);
    expect((await browser.post('/account/sessions/end', { sessionId: others[0] })).headers.location).toBe('/account?done=session');
    const alive = async (cookie: string) => (await t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: { cookie: `__Host-sid=${cookie}` } })).statusCode === 200;
    expect([await alive(a), await alive(b)].filter(Boolean)).toHaveLength(1);
    await browser.get('/account');
    expect((await browser.post('/account/sessions/end-others', {})).headers.location).toBe('/account?done=sessions');
    expect([await alive(a), await alive(b)]).toEqual([false, false]);
    expect((await browser.get('/account')).statusCode).toBe(200);
  });

  it('TOTP: enrol with the secret from the page (QR as a data: PNG), recovery codes shown once, then sign-in asks for the code', async () => {
    const user = await createUser(t);
    const browser = await signedIn(user);
    await browser.get('/account');
    const setup = await browser.post('/account/mfa/setup', { mfaPassword: user.password });
    expect(setup.statusCode).toBe(200);
    expect(setup.body).toMatch(/<img class="qr" src="data:image\/png;base64,[A-Za-z0-9+/=]+" alt="[^"]+"/);
    const secret = /<code class="secret" id="totp-secret">([A-Z2-7]+)<\/code>/.exec(setup.body)![1];
    await steadyStep();
    const enabled = await browser.post('/account/mfa/enable', { code: totp(secret) });
    expect(enabled.statusCode).toBe(200);
    const codes = [...enabled.body.matchAll(/<li><code>([0-9A-Za-z-]+)<\/code><\/li>/g)].map((m) => m[1]);
    expect(codes.length).toBeGreaterThanOrEqual(8);
    expect(enabled.body).toContain('download="recovery-codes.txt"');
    expect(decodeURIComponent(/href="data:text\/plain;charset=utf-8,([^"]+)"/.exec(enabled.body)![1])).toBe(`${codes.join('\n')}\n`);
    expect((await sink.next(user.email, NOTICE)).text).toContain('Two-step verification was turned on');

    await browser.get('/account');
    expect((await browser.post('/logout', {})).headers.location).toBe('/login?signed_out=1');
    await browser.get('/login');
    const first = await browser.post('/login', { email: user.email, password: user.password, return_to: '/account' });
    expect(first.statusCode).toBe(303);
    expect(first.headers.location).toBe('/login/mfa?return_to=%2Faccount');
    expect(browser.cookie('__Host-sid')).toBeUndefined();
    const mfaPage = await browser.get(first.headers.location as string);
    expect(mfaPage.body).toContain('autocomplete="one-time-code"');
    const bad = await browser.post('/login/mfa', { code: '000000', return_to: '/account' });
    expect(bad.statusCode).toBe(401);
    const good = await browser.post('/login/mfa', { code: totp(secret, 1), return_to: '/account' });
    expect(good.statusCode).toBe(303);
    expect(good.headers.location).toBe('/account');
    expect((await browser.get('/api/v1/auth/whoami')).json().amr).toEqual(['pwd', 'otp']);

    // A recovery code signs in too, once.
    const phone = new PageClient(t);
    await phone.get('/login');
    await phone.post('/login', { email: user.email, password: user.password });
    await phone.get('/login/mfa');
    expect((await phone.post('/login/mfa', { code: codes[0] })).statusCode).toBe(303);
    const again = new PageClient(t);
    await again.get('/login');
    await again.post('/login', { email: user.email, password: user.password });
    await again.get('/login/mfa');
    expect((await again.post('/login/mfa', { code: codes[0] })).statusCode).toBe(401);
  });

  it('TOTP: regenerate recovery codes and disable with password + code, each mailing a notice', async () => {
    const user = await createUser(t);
    const { secret } = await seedTotp(t, user.id);
    const browser = new PageClient(t);
    await browser.get('/login');
    await browser.post('/login', { email: user.email, password: user.password });
    await browser.get('/login/mfa');
    await steadyStep();
    expect((await browser.post('/login/mfa', { code: totp(secret, -1) })).statusCode).toBe(303);
    const page = await browser.get('/account');
    expect(page.body).toContain('Two-step verification is on.');
    const wrong = await browser.post('/account/mfa/recovery-codes', { regenCode: '12345' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('aria-describedby="f-regenCode-error"');
    const regenerated = await browser.post('/account/mfa/recovery-codes', { regenCode: totp(secret, 0) });
    expect(regenerated.statusCode).toBe(200);
    expect((await sink.next(user.email, NOTICE)).text).toContain('New recovery codes were created');
    const codes = [...regenerated.body.matchAll(/<li><code>([0-9A-Za-z-]+)<\/code><\/li>/g)].map((m) => m[1]);
    await browser.get('/account');
    const badPassword = await browser.post('/account/mfa/disable', { disablePassword: 'not the password!', disableCode: codes[0] });
    expect(badPassword.statusCode).toBe(400);
    expect(badPassword.body).toContain('f-disablePassword-error');
    const off = await browser.post('/account/mfa/disable', { disablePassword: user.password, disableCode: codes[0] });
    expect(off.headers.location).toBe('/account?done=mfa_disabled');
    expect((await sink.next(user.email, NOTICE)).text).toContain('Two-step verification was turned off');
    expect((await browser.get('/account')).body).toContain('Two-step verification is off.');
  });

  it('change of email: same answer for a taken address; the link to the new one confirms it, tells the old one, ends other sessions', async () => {
    const user = await createUser(t);
    const taken = await createUser(t);
    const elsewhere = await signedIn(user);
    const browser = await signedIn(user);
    await browser.get('/account');
    const takenAnswer = await browser.post('/account/email', { newEmail: taken.email, emailPassword: user.password });
    await browser.get('/account');
    const fresh = uniqueEmail('moved');
    const freeAnswer = await browser.post('/account/email', { newEmail: fresh.toUpperCase(), emailPassword: user.password });
    expect([takenAnswer.statusCode, takenAnswer.headers.location]).toEqual([freeAnswer.statusCode, freeAnswer.headers.location]);
    expect(freeAnswer.headers.location).toBe('/account?done=email');
    const mail = await sink.next(fresh, 'Confirm your new email address');
    expect(sink.messages.some((m) => m.to.includes(taken.email) && m.subject === 'Confirm your new email address')).toBe(false);
    const token = extractToken(mail, '/confirm-email');

    // GET does not use the link; the button does.
    const confirmPage = await browser.get(`/confirm-email?token=${token}`);
    expect(confirmPage.body).toContain(`name="token" value="${token}"`);
    const [before] = await em(t).execute('SELECT email FROM users WHERE id = ?', [user.id]);
    expect(before.email).toBe(user.email);
    const confirmed = await browser.post('/confirm-email', { token });
    expect(confirmed.headers.location).toBe('/account?done=email_changed');
    const [after] = await em(t).execute('SELECT email, email_verified FROM users WHERE id = ?', [user.id]);
    expect(after).toEqual({ email: fresh, email_verified: true });
    expect((await sink.next(user.email, NOTICE)).text).toContain('The email address of your account was changed');
    expect((await elsewhere.get('/account')).statusCode).toBe(303);
    expect((await browser.get('/account')).body).toContain(fresh);
    await browser.get(`/confirm-email?token=${token}`);
    expect((await browser.post('/confirm-email', { token })).statusCode).toBe(400);
    // The new address signs in; the old one no longer does.
    expect((await login(t, fresh, STRONG_PASSWORD)).statusCode).toBe(200);
    expect((await login(t, user.email, STRONG_PASSWORD)).statusCode).toBe(401);
  });
});
