import { createUser, em, STRONG_PASSWORD, uniqueEmail } from '../support/auth-helpers';
import { PageClient } from '../support/page-client';
import { extractToken, type SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { createTestApp, type TestApp } from '../support/test-app';

const NEW_PASSWORD = 'a brand new passphrase 42';

describe('Hosted pages: registration, email verification, password recovery', () => {
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

  it('register → /register/sent → mail → GET /verify-email does not use the token → the button verifies → sign in', async () => {
    const email = uniqueEmail('page');
    const browser = new PageClient(t);
    const form = await browser.get('/register');
    expect(form.body).toContain('autocomplete="new-password"');
    const res = await browser.post('/register', { displayName: 'Page Person', email, password: STRONG_PASSWORD });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/register/sent');
    expect((await browser.get('/register/sent')).body).toContain('Check your mail');

    const mail = await sink.next(email, 'Verify your email address');
    expect(mail.text).toContain(`${t.config.appUrl}/verify-email?token=`);
    const token = extractToken(mail, '/verify-email');
    // Twice, as a mail scanner and then the person would: the token survives both GETs.
    await browser.get(`/verify-email?token=${token}`);
    const page = await browser.get(`/verify-email?token=${token}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`name="token" value="${token}"`);
    const [before] = await em(t).execute('SELECT email_verified FROM users WHERE email = ?', [email]);
    expect(before.email_verified).toBe(false);

    const verified = await browser.post('/verify-email', { token });
    expect(verified.statusCode).toBe(303);
    expect(verified.headers.location).toBe('/login?verified=1');
    expect((await browser.get('/login?verified=1')).body).toContain('Your email address is verified');
    const signIn = await browser.post('/login', { email, password: STRONG_PASSWORD, return_to: '/account' });
    expect(signIn.statusCode).toBe(303);

    await browser.get(`/verify-email?token=${token}`);
    const reused = await browser.post('/verify-email', { token });
    expect(reused.statusCode).toBe(400);
    expect(reused.body).toContain('invalid, used or expired');
  });

  it('ASVS 6.3.8: registering a taken address answers the same page', async () => {
    const user = await createUser(t);
    const browser = new PageClient(t);
    await browser.get('/register');
    const res = await browser.post('/register', { displayName: 'Someone', email: user.email, password: STRONG_PASSWORD });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/register/sent');
    await sink.next(user.email, 'You already have an account');
  });

  it('a refused password is shown next to its field (aria-describedby, autofocus), nothing is created', async () => {
    const email = uniqueEmail('weak');
    const browser = new PageClient(t);
    await browser.get('/register?lang=de');
    const res = await browser.post('/register', { displayName: 'Weak', email, password: 'short' });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/<input id="f-password"[^>]* aria-invalid="true" aria-describedby="f-password-error" autofocus>/);
    expect(res.body).toContain(`<small id="f-password-error" class="error">Das Passwort muss mindestens ${t.config.passwords.minLength} Zeichen lang sein.</small>`);
    expect(res.body).toContain(`value="${email}"`);
    expect(res.body).not.toContain('value="short"');
    expect(await em(t).execute('SELECT id FROM users WHERE email = ?', [email])).toHaveLength(0);
  });

  it('forgot → mail → reset page → new password → sign in; the link works once', async () => {
    const user = await createUser(t);
    const browser = new PageClient(t);
    await browser.get('/forgot-password');
    const res = await browser.post('/forgot-password', { email: user.email });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/forgot-password?sent=1');
    // An unknown address gets the same answer.
    await browser.get('/forgot-password');
    expect((await browser.post('/forgot-password', { email: 'nobody-here@example.com' })).headers.location).toBe('/forgot-password?sent=1');

    const token = extractToken(await sink.next(user.email, 'Reset your password'), '/reset-password');
    const form = await browser.get(`/reset-password?token=${encodeURIComponent(token)}`);
    expect(form.body).toContain('autocomplete="new-password"');
    const weak = await browser.post('/reset-password', { token, newPassword: 'password' });
    expect(weak.statusCode).toBe(400);
    expect(weak.body).toContain('aria-describedby="f-newPassword-error"');
    const done = await browser.post('/reset-password', { token, newPassword: NEW_PASSWORD });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/login?reset=1');
    await browser.get('/login?reset=1');
    expect((await browser.post('/login', { email: user.email, password: NEW_PASSWORD })).statusCode).toBe(303);
    await browser.get(`/reset-password?token=${encodeURIComponent(token)}`);
    const again = await browser.post('/reset-password', { token, newPassword: 'yet another passphrase 7' });
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain('invalid, used or expired');
  });
});

describe('Hosted pages: closed registration and rate limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    // TRUST_PROXY: each test's client is its own address (X-Forwarded-For), so the credential budget,
    // shared by every credential route of an address, is not spent by the other test's POSTs.
    t = await createTestApp({ env: { AUTH_REGISTRATION: 'closed', THROTTLE_AUTH_LIMIT: '3', TRUST_PROXY: 'true' } });
  });
  afterAll(() => t.close());

  it('with AUTH_REGISTRATION=closed the register page says so (403) and a POST creates nothing', async () => {
    const browser = new PageClient(t);
    const page = await browser.get('/register');
    expect(page.statusCode).toBe(403);
    expect(page.body).toContain('Registration is closed');
    expect(page.body).not.toContain('action="/register"');
    const email = uniqueEmail('closed');
    await browser.get('/login'); // the closed page has no form: take this browser's token from another
    const res = await browser.post('/register', { displayName: 'Closed', email, password: STRONG_PASSWORD });
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain('Registration is closed');
    expect(await em(t).execute('SELECT id FROM users WHERE email = ?', [email])).toHaveLength(0);
  });

  it('the credential rate limit applies to page POSTs: the 4th login is a 429 page with Retry-After and the wait', async () => {
    const browser = new PageClient(t, { 'x-forwarded-for': '203.0.113.9' });
    await browser.get('/login');
    const csrf = /name="_csrf" value="([^"]*)"/.exec(browser.last!.body)![1];
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await browser.post('/login', { _csrf: csrf, email: 'x@example.com', password: 'not the password' });
      statuses.push(last.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect(last!.headers['content-type']).toMatch(/^text\/html/);
    const wait = Number(last!.headers['retry-after']);
    expect(wait).toBeGreaterThan(0);
    expect(last!.body).toContain(`Please wait ${wait} seconds`);
  });
});
