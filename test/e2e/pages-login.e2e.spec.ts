import { createUser, em, STRONG_PASSWORD } from '../support/auth-helpers';
import { PageClient } from '../support/page-client';
import { SignInInteractions } from '../../src/pages/sign-in-interactions';
import { createTestApp, type TestApp } from '../support/test-app';

describe('Hosted pages: /login and /logout', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { RETURN_TO_ORIGINS: 'https://app.example.com' } });
  });
  afterAll(() => t.close());

  it('GET /login renders the form: labels, autocomplete, CSRF field, return_to, no-store, strict CSP', async () => {
    const browser = new PageClient(t);
    const res = await browser.get('/login?return_to=/oidc/interaction/abc');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-store');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toMatch(/style-src 'self'(;|$)/);
    expect(res.body).toContain('<label for="f-email">Email</label>');
    expect(res.body).toContain('autocomplete="username"');
    expect(res.body).toContain('autocomplete="current-password"');
    expect(res.body).toContain('name="return_to" value="/oidc/interaction/abc"');
    expect(res.body).toMatch(/name="_csrf" value="[\w-]{40,}"/);
    expect(res.body).not.toMatch(/<script(?![^>]*src=)/);
    expect(res.body).not.toMatch(/ style=/);
    expect(browser.cookie('__Host-pre')).toBeDefined();
    expect(res.body).not.toContain('Sign in with Google');
  });

  it('a right password: 303 to return_to with the same __Host-sid cookie session as the API cookie mode', async () => {
    const user = await createUser(t);
    const browser = new PageClient(t);
    await browser.get('/login?return_to=%2Fdocs');
    const res = await browser.post('/login', { email: user.email, password: user.password, return_to: '/docs' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/docs');
    const cookie = [res.headers['set-cookie']].flat().find((c) => c?.startsWith('__Host-sid='))!;
    expect(cookie.toLowerCase()).toEqual(expect.stringContaining('httponly'));
    expect(cookie.toLowerCase()).toEqual(expect.stringContaining('samesite=strict'));
    expect(cookie.toLowerCase()).toEqual(expect.stringContaining('secure'));
    // The API sees the page's session.
    const who = await browser.get('/api/v1/auth/whoami');
    expect(who.statusCode).toBe(200);
    expect(who.json()).toMatchObject({ userId: user.id, amr: ['pwd'] });
    // Signed in, GET /login goes straight on.
    const again = await browser.get('/login?return_to=/account');
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toBe('/account');
  });

  it('ASVS 6.3.8: wrong password, unknown email and a locked account re-render with 401 and the same text', async () => {
    const user = await createUser(t);
    const locked = await createUser(t);
    await em(t).execute("UPDATE users SET locked_until = now() + interval '10 minutes' WHERE id = ?", [locked.id]);
    const bodies: string[] = [];
    for (const [email, password] of [
      [user.email, 'wrong password here'],
      ['nobody@example.com', STRONG_PASSWORD],
      [locked.email, locked.password],
    ]) {
      const browser = new PageClient(t);
      await browser.get('/login');
      const res = await browser.post('/login', { email, password, return_to: '/account' });
      expect(res.statusCode).toBe(401);
      expect(browser.cookie('__Host-sid')).toBeUndefined();
      bodies.push(/<p role="alert" class="error" id="login-error">([^<]*)<\/p>/.exec(res.body)![1]);
      expect(res.body).toContain(`value="${email}"`);
    }
    expect(new Set(bodies).size).toBe(1);
    expect(bodies[0]).toContain('not correct');
  });

  it('lockout applies as on the API: LOCKOUT_THRESHOLD wrong passwords lock, then the right one is refused', async () => {
    const user = await createUser(t);
    const browser = new PageClient(t);
    await browser.get('/login');
    for (let i = 0; i < t.config.lockout.threshold; i++) {
      expect((await browser.post('/login', { email: user.email, password: `wrong-${i}-password` })).statusCode).toBe(401);
    }
    expect((await browser.post('/login', { email: user.email, password: user.password })).statusCode).toBe(401);
    const [row] = await em(t).execute('SELECT locked_until FROM users WHERE id = ?', [user.id]);
    expect(row.locked_until).not.toBeNull();
  });

  it('a POST without the CSRF field, or with another browser\'s, is the 403 page and signs nobody in', async () => {
    const user = await createUser(t);
    const browser = new PageClient(t);
    await browser.get('/login');
    const missing = await browser.post('/login', { _csrf: undefined, email: user.email, password: user.password });
    expect(missing.statusCode).toBe(403);
    expect(missing.headers['content-type']).toMatch(/^text\/html/);
    expect(missing.body).toContain('This form has expired');
    const other = new PageClient(t);
    await other.get('/login');
    const foreign = await browser.post('/login', { _csrf: (await other.get('/login')).body.match(/name="_csrf" value="([^"]*)"/)![1], email: user.email, password: user.password });
    expect(foreign.statusCode).toBe(403);
    expect(browser.cookie('__Host-sid')).toBeUndefined();
    const [row] = await em(t).execute('SELECT count(*)::int AS n FROM sessions WHERE user_id = ?', [user.id]);
    expect(row.n).toBe(0);
  });

  it.each(['//evil.example', '/\\evil.example', 'https:evil.example', 'javascript:alert(1)', '%2F%2Fevil.example', 'https://evil.example/'])(
    'open redirect: return_to=%s ends on /account',
    async (target) => {
      const user = await createUser(t);
      const browser = new PageClient(t);
      const form = await browser.get(`/login?return_to=${encodeURIComponent(target)}`);
      expect(form.body).toContain('name="return_to" value="/account"');
      const res = await browser.post('/login', { email: user.email, password: user.password, return_to: target });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/account');
    },
  );

  it('an allow-listed origin is accepted and added to form-action', async () => {
    const browser = new PageClient(t);
    const res = await browser.get(`/login?return_to=${encodeURIComponent('https://app.example.com/home')}`);
    expect(res.headers['content-security-policy']).toContain("form-action 'self' https://app.example.com");
  });

  it('SignInInteractions (the OIDC login step): widens form-action and forces a fresh sign-in that replaces the old session', async () => {
    t.app.get(SignInInteractions).register((returnTo) =>
      returnTo.startsWith('/oidc/interaction/') ? { formActionOrigins: ['https://rp.example'], forceSignIn: true } : null,
    );
    const user = await createUser(t);
    const browser = new PageClient(t);
    await browser.get('/login');
    await browser.post('/login', { email: user.email, password: user.password });
    const oldSid = browser.cookie('__Host-sid')!;
    // An ordinary return_to still goes straight on; the interaction shows the form again.
    expect((await browser.get('/login?return_to=/account')).statusCode).toBe(303);
    const form = await browser.get('/login?return_to=%2Foidc%2Finteraction%2Fuid-1');
    expect(form.statusCode).toBe(200);
    expect(form.headers['content-security-policy']).toContain("form-action 'self' https://rp.example");
    const res = await browser.post('/login', { email: user.email, password: user.password, return_to: '/oidc/interaction/uid-1' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/oidc/interaction/uid-1');
    expect(browser.cookie('__Host-sid')).not.toBe(oldSid);
    const old = await t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: { cookie: `__Host-sid=${oldSid}` } });
    expect(old.statusCode).toBe(401);
  });

  it('POST /logout ends the session (the API sees it) and lands on /login?signed_out=1', async () => {
    const user = await createUser(t);
    const browser = new PageClient(t);
    await browser.get('/login');
    await browser.post('/login', { email: user.email, password: user.password });
    const sid = browser.cookie('__Host-sid')!;
    const account = await browser.get('/login?return_to=/login%3Fx%3D1');
    expect(account.statusCode).toBe(303);
    const page = await browser.get('/login/mfa');
    expect(page.statusCode).toBe(303);
    // The sign-out button on an anonymous page carries the session's token, not the page's.
    const register = await browser.get('/register');
    const logoutCsrf = /action="\/logout"[^>]*><input type="hidden" name="_csrf" value="([^"]*)"/.exec(register.body)![1];
    expect(logoutCsrf).toBe((await browser.get('/api/v1/auth/csrf')).json().csrfToken);
    const out = await browser.post('/logout', { _csrf: logoutCsrf });
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/login?signed_out=1');
    expect(browser.cookie('__Host-sid')).toBeUndefined();
    const who = await t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: { cookie: `__Host-sid=${sid}` } });
    expect(who.statusCode).toBe(401);
  });

  it('the language: ?lang=de, then the cookie, then Accept-Language', async () => {
    const browser = new PageClient(t);
    const de = await browser.get('/login?lang=de');
    expect(de.body).toContain('<html lang="de">');
    expect(de.body).toContain('Passwort');
    expect((await browser.get('/login')).body).toContain('<html lang="de">');
    const fresh = new PageClient(t, { 'accept-language': 'fr;q=0.9, de-AT;q=0.8, en;q=0.5' });
    expect((await fresh.get('/login')).body).toContain('<html lang="de">');
    expect((await new PageClient(t).get('/login')).body).toContain('<html lang="en">');
  });

  it('serves the stylesheets under /assets (Pico, ours, the brand colour)', async () => {
    const pico = await t.app.inject({ method: 'GET', url: '/assets/pico.classless.min.css' });
    expect(pico.statusCode).toBe(200);
    expect(pico.headers['content-type']).toMatch(/^text\/css/);
    expect((await t.app.inject({ method: 'GET', url: '/assets/bastion.css' })).statusCode).toBe(200);
    const brand = await t.app.inject({ method: 'GET', url: '/assets/brand.css' });
    expect(brand.body).toContain(`--pico-primary: ${t.config.pages.brand.primaryColor};`);
    expect((await t.app.inject({ method: 'GET', url: '/assets/../package.json' })).statusCode).toBe(404);
  });
});

describe('Hosted pages: Google button and hostile input', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: { GOOGLE_CLIENT_ID: 'page-test-client', GOOGLE_CLIENT_SECRET: 'page-test-secret', GOOGLE_CALLBACK_URL: 'http://localhost:3000/api/v1/auth/google/callback' },
    });
  });
  afterAll(() => t.close());

  it('shows "Sign in with Google" only when Google is configured', async () => {
    const page = await new PageClient(t).get('/login');
    expect(page.body).toContain('<a href="/api/v1/auth/google" role="button"');
    expect(page.body).toContain('Sign in with Google');
  });

  it('malformed forms (repeated fields, missing fields, wrong types, JSON bodies) get a page, never a 5xx', async () => {
    const user = await createUser(t);
    const browser = new PageClient(t);
    await browser.get('/login');
    const csrf = browser.last!.body.match(/name="_csrf" value="([^"]*)"/)![1];
    const raw = (url: string, payload: string, type = 'application/x-www-form-urlencoded') =>
      t.app.inject({ method: 'POST', url, payload, headers: { 'content-type': type, cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
    const cases: [string, string, string?][] = [
      ['/login', `_csrf=${csrf}&email=${encodeURIComponent(user.email)}&email=x@example.com&password=a&password=b&return_to=/a&return_to=//evil.example`],
      ['/login', `_csrf=${csrf}`],
      ['/login', `_csrf=${csrf}&email=${'a'.repeat(5000)}&password=${'p'.repeat(5000)}`],
      ['/login/mfa', `_csrf=${csrf}&code=1&code=2`],
      ['/register', `_csrf=${csrf}&displayName=&email=not-an-email&password=`],
      ['/verify-email', `_csrf=${csrf}&token=a&token=b`],
      ['/reset-password', `_csrf=${csrf}&newPassword=x`],
      ['/forgot-password', `_csrf=${csrf}&email[]=x`],
      ['/login', JSON.stringify({ _csrf: csrf, email: ['a'], password: { x: 1 } }), 'application/json'],
      ['/login', JSON.stringify([csrf]), 'application/json'],
      ['/login', 'not json', 'application/json'],
    ];
    for (const [url, payload, type] of cases) {
      const res = await raw(url, payload, type);
      expect([url, res.statusCode < 500]).toEqual([url, true]);
    }
    expect(browser.cookie('__Host-sid')).toBeUndefined();
  });
});
