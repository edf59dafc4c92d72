import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createUser, em, uniqueEmail } from '../support/auth-helpers';
import { extractToken, type SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { createTestApp, type TestApp } from '../support/test-app';
import { steadyStep, totp } from '../support/totp';
import { launchChromium, screenshot } from './chromium';

/** The page's DOM, typed as far as these tests read it (a DOM lib would leak into the whole Node program). */
interface PageDocument {
  activeElement: { id: string } | null;
  documentElement: { scrollWidth: number };
}

const PASSWORD = 'a long and fine passphrase';
const NEW_PASSWORD = 'another long passphrase 2';

/**
 * The hosted pages as a person uses them, in Chromium: register → mail → verify → sign in → enrol
 * TOTP (secret read from the page) → sign out → password + code → end another session → reset by
 * mail → recovery-code sign-in; then a locked account, a CSRF-less POST, an open redirect, German
 * pages and a phone-sized screen. Every page is saved to test/browser/screenshots/.
 */
describe('Hosted pages in a real browser', () => {
  let t: TestApp;
  let sink: SmtpSink;
  let browser: Browser;
  let base: string;
  const email = uniqueEmail('walker');
  let secret = '';
  let recoveryCodes: string[] = [];

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({ env: { SMTP_URL: sink.url }, listen: true });
    // Chromium treats localhost as a secure context, so the __Host- cookies (Secure) work over http.
    base = t.url!.replace('127.0.0.1', 'localhost');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await sink?.close();
  });

  /** A mailed link, opened on this test server (APP_URL is the configured origin). */
  const linkOnServer = (path: string, token: string) => `${base}${path}?token=${encodeURIComponent(token)}`;
  const newPage = async (options: Parameters<Browser['newContext']>[0] = {}): Promise<[BrowserContext, Page]> => {
    const context = await browser.newContext({ locale: 'en-US', ...options });
    return [context, await context.newPage()];
  };
  const path = (page: Page) => new URL(page.url()).pathname + new URL(page.url()).search;

  async function signIn(page: Page, password: string, returnTo = ''): Promise<void> {
    await page.goto(`${base}/login${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('register → mail → verify page → sign in', async () => {
    const [context, page] = await newPage();
    await page.goto(`${base}/register`);
    await screenshot(page, '01-register');
    await page.getByLabel('Display name').fill('Walker Person');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByRole('heading', { name: 'Check your mail' }).waitFor();
    expect(path(page)).toBe('/register/sent');
    await screenshot(page, '02-register-sent');

    const token = extractToken(await sink.next(email, 'Verify your email address'), '/verify-email');
    await page.goto(linkOnServer('/verify-email', token));
    await screenshot(page, '03-verify-email');
    await page.getByRole('button', { name: 'Verify my email address' }).click();
    await page.getByText('Your email address is verified').waitFor();
    await screenshot(page, '04-login-verified');

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    expect(path(page)).toBe('/account');
    await screenshot(page, '05-account');
    await context.close();
  });

  it('enrol TOTP with the secret read from the page; the recovery codes are shown once', async () => {
    const [context, page] = await newPage();
    await signIn(page, PASSWORD);
    await page.getByLabel('Current password').nth(2).fill(PASSWORD);
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
    await qr.waitFor();
    expect(await qr.evaluate((img: { complete: boolean; naturalWidth: number }) => img.complete && img.naturalWidth > 100)).toBe(true);
    await screenshot(page, '06-mfa-setup');
    secret = (await page.locator('#totp-secret').textContent())!.trim();
    await steadyStep();
    await page.getByLabel('Code from your app').fill(totp(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
    recoveryCodes = await page.locator('#recovery-codes code').allTextContents();
    expect(recoveryCodes.length).toBeGreaterThanOrEqual(8);
    await screenshot(page, '07-recovery-codes');
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download as text file' }).click();
    expect((await download).suggestedFilename()).toBe('recovery-codes.txt');
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByText('Two-step verification is on.').waitFor();

    // Sign out, then in again: password, then the code.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    await signIn(page, PASSWORD);
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    expect(path(page)).toBe('/login/mfa?return_to=%2Faccount');
    await screenshot(page, '08-login-mfa');
    await page.getByLabel('Code').fill(totp(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await context.close();
  });

  it('ends another session from /account; that browser is signed out', async () => {
    const [phoneContext, phone] = await newPage({ userAgent: 'PhoneBrowser/1.0' });
    await signIn(phone, PASSWORD);
    await phone.getByLabel('Code').fill(recoveryCodes[1]);
    await phone.getByRole('button', { name: 'Verify' }).click();
    await phone.getByRole('heading', { name: 'Your account' }).waitFor();

    const [context, page] = await newPage();
    await signIn(page, PASSWORD);
    await page.getByLabel('Code').fill(recoveryCodes[2]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    const other = page.locator('ul.sessions li', { hasText: 'PhoneBrowser/1.0' });
    await other.getByRole('button', { name: 'End' }).click();
    await page.getByText('The session was ended.').waitFor();
    await screenshot(page, '09-account-session-ended');

    await phone.reload();
    await phone.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(path(phone)).toBe('/login?return_to=%2Faccount');
    await Promise.all([context.close(), phoneContext.close()]);
  });

  it('resets the password by mail, then signs in with a recovery code', async () => {
    const [context, page] = await newPage();
    await page.goto(`${base}/login`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send link' }).click();
    await page.getByText('a message is on its way').waitFor();
    await screenshot(page, '10-forgot-sent');
    const token = extractToken(await sink.next(email, 'Reset your password'), '/reset-password');
    await page.goto(linkOnServer('/reset-password', token));
    await page.getByLabel('New password').fill('password');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByText('The password must be at least').waitFor();
    // The first error has the focus and is tied to its field.
    expect(await page.evaluate(() => (globalThis as unknown as { document: PageDocument }).document.activeElement?.id)).toBe('f-newPassword');
    expect(await page.getByLabel('New password').getAttribute('aria-describedby')).toBe('f-newPassword-error');
    await screenshot(page, '11-reset-password-error');
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByText('Sign in with the new one').waitFor();

    await signIn(page, NEW_PASSWORD);
    await page.getByLabel('Code').fill(recoveryCodes[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await context.close();
  });

  it('a locked account gets the same message as a wrong password, even with the right one', async () => {
    const locked = await createUser(t);
    await em(t).execute("UPDATE users SET locked_until = now() + interval '10 minutes' WHERE id = ?", [locked.id]);
    const [context, page] = await newPage();
    const attempt = async (address: string, password: string) => {
      await page.goto(`${base}/login`);
      await page.getByLabel('Email').fill(address);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      return (await page.getByRole('alert').textContent())!.trim();
    };
    const lockedMessage = await attempt(locked.email, locked.password);
    await screenshot(page, '12-login-refused');
    expect(await page.evaluate(() => (globalThis as unknown as { document: PageDocument }).document.activeElement?.id)).toBe('f-password');
    expect(await attempt(email, 'wrong password entirely')).toBe(lockedMessage);
    expect(await attempt('nobody@example.com', 'wrong password entirely')).toBe(lockedMessage);
    await context.close();
  });

  it('a form without its CSRF token is refused with the 403 page and changes nothing', async () => {
    const [context, page] = await newPage();
    await signIn(page, NEW_PASSWORD);
    await page.getByLabel('Code').fill(recoveryCodes[3]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    const form = page.locator('form[action="/account/profile"]');
    await form.locator('input[name="_csrf"]').evaluate((input) => input.remove());
    await page.getByLabel('Display name').fill('Mallory');
    const response = page.waitForResponse((r) => r.url().endsWith('/account/profile'));
    await form.getByRole('button', { name: 'Save' }).click();
    expect((await response).status()).toBe(403);
    await page.getByRole('heading', { name: 'This form has expired' }).waitFor();
    await screenshot(page, '13-csrf-refused');
    const [row] = await em(t).execute('SELECT display_name FROM users WHERE email = ?', [email]);
    expect(row.display_name).toBe('Walker Person');
    await context.close();
  });

  it('an open-redirect return_to ends on /account', async () => {
    const user = await createUser(t);
    const [context, page] = await newPage();
    await page.goto(`${base}/login?return_to=${encodeURIComponent('//evil.example/steal')}`);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    expect(new URL(page.url()).origin).toBe(base);
    expect(path(page)).toBe('/account');
    await context.close();
  });

  it('German pages, by ?lang= and by the browser language; one column on a 360 px phone', async () => {
    const [context, page] = await newPage({ locale: 'de-DE', viewport: { width: 360, height: 740 } });
    await page.goto(`${base}/login`);
    await page.getByRole('heading', { name: 'Anmelden' }).waitFor();
    expect(await page.getAttribute('html', 'lang')).toBe('de');
    await screenshot(page, '14-login-de-phone');
    expect(await page.evaluate(() => (globalThis as unknown as { document: PageDocument }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await page.getByRole('link', { name: 'Noch kein Konto? Registrieren' }).click();
    await page.getByLabel('Anzeigename').waitFor();
    await screenshot(page, '15-register-de-phone');
    await page.getByRole('link', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Create an account' }).waitFor();
    await context.close();
  });

  it('the account page on a phone, keyboard only: Tab reaches the first field', async () => {
    const user = await createUser(t);
    const [context, page] = await newPage({ viewport: { width: 360, height: 740 } });
    await page.goto(`${base}/login`);
    expect(await page.evaluate(() => (globalThis as unknown as { document: PageDocument }).document.activeElement?.id)).toBe('f-email');
    await page.keyboard.type(user.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(user.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { document: PageDocument }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await screenshot(page, '16-account-phone');
    await context.close();
  });
});
