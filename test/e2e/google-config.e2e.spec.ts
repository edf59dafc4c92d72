import type { LightMyRequestResponse } from 'fastify';
import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../src/auth/mfa/secret-box';
import { hashSecret } from '../../src/common/crypto/secrets';
import { bearer, createUser, em, uniqueEmail } from '../support/auth-helpers';
import {
  authorize,
  callback,
  GOOGLE_CALLBACK,
  GOOGLE_START,
  OAUTH_EXCHANGE,
  setCookieNamed,
  signInWithGoogle,
  startFlow,
} from '../support/google-flow';
import { GoogleIdp, type IdpClaims } from '../support/google-idp';
import { expectProblem } from '../support/problem-assertions';
import { createTestApp, type TestApp } from '../support/test-app';
import { secondsLeftInStep, totp } from '../support/totp';

/**
 * Google sign-in under its configuration variants (issue 6): not configured, OAUTH_SUCCESS_REDIRECT
 * + one-time code exchange, OAUTH_FAILURE_REDIRECT, GOOGLE_ALLOWED_DOMAINS with one and two
 * domains, closed registration, and two instances sharing one database.
 */

const SUCCESS = 'https://app.example.com/signed-in?tab=home';
const FAILURE = 'https://app.example.com/sign-in-failed';
const EVIL = encodeURIComponent('https://evil.example/steal');
const INJECTED = `&redirect_uri=${EVIL}&next=${EVIL}&returnTo=${EVIL}&success_redirect=${EVIL}&failure_redirect=${EVIL}`;
const HUGE = 'a'.repeat(10_240);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let subCounter = 0;
const googleUser = (overrides: Partial<IdpClaims> = {}): IdpClaims => ({
  sub: `2${Date.now()}${(subCounter += 1)}`,
  email: uniqueEmail('g'),
  email_verified: true,
  name: 'Katherine Johnson',
  ...overrides,
});

const q = <T = Record<string, unknown>>(t: TestApp, sql: string, params: unknown[] = []): Promise<T[]> => em(t).execute(sql, params);
const count = async (t: TestApp, sql: string, params: unknown[] = []) => (await q<{ n: number }>(t, `SELECT count(*)::int AS n FROM ${sql}`, params))[0].n;
const totals = async (t: TestApp) => ({
  users: await count(t, 'users'),
  identities: await count(t, 'external_identities'),
  sessions: await count(t, 'sessions'),
  codes: await count(t, 'oauth_exchange_codes'),
});
const whoami = (t: TestApp, accessToken: string) => t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: bearer(accessToken) });
const exchange = (t: TestApp, payload: unknown, query = '') => t.app.inject({ method: 'POST', url: `${OAUTH_EXCHANGE}${query}`, payload: payload as string });

describe('Google sign-in configuration variants (issue 6)', () => {
  const idp = new GoogleIdp();
  beforeAll(() => idp.start());
  afterAll(() => idp.stop());
  beforeEach(() => {
    idp.failToken = false;
    idp.failUserinfo = false;
  });

  describe('not configured', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(() => t?.close());

    it('the app starts, and both Google routes answer 404 problem+json "Google sign-in is not configured"', async () => {
      expect(t.config.google).toBeUndefined();
      expect((await t.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
      for (const url of [GOOGLE_START, `${GOOGLE_CALLBACK}?code=abc&state=${'s'.repeat(43)}`, GOOGLE_CALLBACK, `${GOOGLE_CALLBACK}?error=access_denied`]) {
        const res = await t.app.inject({ method: 'GET', url, headers: { cookie: 'bastion_oauth=a.b' } });
        expect(expectProblem(res, 404)).toMatchObject({ detail: 'Google sign-in is not configured' });
        expect(setCookieNamed(res, 'bastion_oauth')).toBeUndefined();
      }
    });
  });

  describe('with OAUTH_SUCCESS_REDIRECT and OAUTH_FAILURE_REDIRECT (instance A; B shares its database)', () => {
    let t: TestApp;
    let b: TestApp;
    beforeAll(async () => {
      // Instances of one deployment share their configuration, secrets included.
      const env = idp.env({ OAUTH_SUCCESS_REDIRECT: SUCCESS, OAUTH_FAILURE_REDIRECT: FAILURE, MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
      t = await createTestApp({ env });
      b = await createTestApp({ env, database: t.database });
    });
    afterAll(async () => {
      await b?.close();
      await t?.close();
    });

    /** A successful callback: the one-time code from the success redirect. */
    async function oneTimeCode(claims: IdpClaims = googleUser(), extraQuery = ''): Promise<{ code: string; res: LightMyRequestResponse }> {
      const { res } = await signInWithGoogle(idp, t, claims, { extraQuery });
      expect({ status: res.statusCode, body: res.body }).toMatchObject({ status: 302 });
      const location = new URL(res.headers.location as string);
      expect(`${location.origin}${location.pathname}`).toBe('https://app.example.com/signed-in');
      return { code: location.searchParams.get('code')!, res };
    }

    it('success → 302 to OAUTH_SUCCESS_REDIRECT?code=<one-time code> (≥ 128 bits, stored hashed, 60 s); no session until the exchange', async () => {
      const claims = googleUser();
      const before = await totals(t);
      const { code, res } = await oneTimeCode(claims);
      const location = new URL(res.headers.location as string);
      expect(location.searchParams.get('tab')).toBe('home');
      expect([...location.searchParams.keys()].sort()).toEqual(['code', 'tab']);
      expect(code).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(code, 'base64url').length).toBeGreaterThanOrEqual(16);
      expect(res.body).not.toMatch(/accessToken|refreshToken/);
      expect(setCookieNamed(res, 'bastion_oauth')).toMatch(/^bastion_oauth=;/);

      const rows = await q<{ code_hash: string; ttl: number; amr: string[]; used_at: Date | null }>(
        t,
        'SELECT code_hash, extract(epoch FROM expires_at - now())::float AS ttl, amr, used_at FROM oauth_exchange_codes WHERE code_hash = ?',
        [hashSecret(code)],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ amr: ['google'], used_at: null });
      expect(rows[0].ttl).toBeGreaterThan(50);
      expect(rows[0].ttl).toBeLessThanOrEqual(60);
      expect(await count(t, 'oauth_exchange_codes WHERE code_hash = ?', [code])).toBe(0);
      const after = await totals(t);
      expect(after).toEqual({ ...before, users: before.users + 1, identities: before.identities + 1, codes: before.codes + 1 });
    });

    it('POST /oauth/exchange turns the code into the login body (amr ["google"], audit auth.google.login) exactly once', async () => {
      const { code } = await oneTimeCode();
      const res = await exchange(t, { code });
      expect({ status: res.statusCode, body: res.body }).toMatchObject({ status: 200 });
      expect(res.json()).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String), tokenType: 'Bearer', expiresIn: expect.any(Number) });
      const who = (await whoami(t, res.json().accessToken)).json();
      expect(who.amr).toEqual(['google']);
      const audits = await q<{ details: Record<string, unknown> }>(t, `SELECT details FROM audit_events WHERE type = 'auth.google.login' AND target_id = ?`, [who.userId]);
      expect(audits).toEqual([{ details: expect.objectContaining({ amr: ['google'], mode: 'bearer' }) }]);
      expect(JSON.stringify(audits)).not.toContain(code);

      const sessions = await count(t, 'sessions');
      const reuse = expectProblem(await exchange(t, { code }), 400);
      expect(reuse.detail).toMatch(/invalid, used or expired/);
      expect(await count(t, 'sessions')).toBe(sessions);

      // Two redemptions of one code at once: exactly one wins.
      const { code: raced } = await oneTimeCode();
      const answers = await Promise.all([1, 2].map(() => exchange(t, { code: raced })));
      expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 400]);
      expect(await count(t, 'sessions')).toBe(sessions + 1);
    });

    it('an expired code → 400', async () => {
      const { code } = await oneTimeCode();
      await q(t, `UPDATE oauth_exchange_codes SET expires_at = now() - interval '1 second' WHERE code_hash = ?`, [hashSecret(code)]);
      const sessions = await count(t, 'sessions');
      expectProblem(await exchange(t, { code }), 400);
      expect(await count(t, 'sessions')).toBe(sessions);
    });

    it('?mode=cookie on the exchange sets __Host-sid (HttpOnly, Secure, SameSite=Strict, Path=/) and answers {csrfToken, expiresIn}', async () => {
      const { code } = await oneTimeCode();
      const res = await exchange(t, { code }, '?mode=cookie');
      expect(res.statusCode).toBe(200);
      expect(Object.keys(res.json()).sort()).toEqual(['csrfToken', 'expiresIn']);
      expect(res.body).not.toMatch(/accessToken|refreshToken/);
      const sid = setCookieNamed(res, '__Host-sid')!;
      expect(sid).toBeDefined();
      const attributes = sid.split(';').map((s) => s.trim());
      expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/']));
      const who = await t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: { cookie: sid.split(';')[0] } });
      expect(who.statusCode).toBe(200);
      expect(who.json().amr).toEqual(['google']);
      const csrf = await t.app.inject({ method: 'GET', url: '/api/v1/auth/csrf', headers: { cookie: sid.split(';')[0] } });
      expect(csrf.json()).toEqual({ csrfToken: res.json().csrfToken });
    });

    it('bad exchange input → 400 problem, no session: missing, empty, non-string, 10 kB, unknown code, unknown fields, bad mode', async () => {
      const { code } = await oneTimeCode();
      const sessions = await count(t, 'sessions');
      for (const [payload, query] of [
        [{}, ''],
        [{ code: '' }, ''],
        [{ code: 123 }, ''],
        [{ code: [code] }, ''],
        [{ code: HUGE }, ''],
        [{ code, extra: true }, ''],
        [{ code }, '?mode=session'],
      ] as const) {
        expectProblem(await exchange(t, payload, query), 400, 'urn:bastion:problem:validation');
      }
      expectProblem(await exchange(t, { code: randomBytes(32).toString('base64url') }), 400);
      expect(await count(t, 'sessions')).toBe(sessions);
      // None of those consumed the real code.
      expect((await exchange(t, { code })).statusCode).toBe(200);
    });

    it('a TOTP user: the exchange answers mfaRequired; /mfa/verify then yields amr ["google","otp"]', async () => {
      const user = await createUser(t);
      const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
      const sealed = t.app.get(SecretBox).seal(secret, user.id);
      await q(
        t,
        `INSERT INTO totp_factors (id, user_id, status, secret_ciphertext, key_id, last_used_step, enabled_at)
         VALUES (gen_random_uuid(), ?, 'active', ?, ?, ?, now() - interval '10 minutes')`,
        [user.id, sealed.ciphertext, sealed.keyId, Math.floor(Date.now() / 30_000) - 20],
      );
      const { code } = await oneTimeCode(googleUser({ email: user.email }));
      const res = await exchange(t, { code });
      expect(res.json()).toEqual({ mfaRequired: true, mfaToken: expect.any(String), methods: ['totp', 'recovery_code'] });
      expect(await count(t, 'sessions WHERE user_id = ?', [user.id])).toBe(0);
      if (secondsLeftInStep() < 3) await sleep(secondsLeftInStep() * 1000 + 150);
      const verified = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/verify', payload: { mfaToken: res.json().mfaToken, code: totp(secret) } });
      expect(verified.statusCode).toBe(200);
      expect((await whoami(t, verified.json().accessToken)).json()).toMatchObject({ userId: user.id, amr: ['google', 'otp'] });
    });

    it('provider errors and refused accounts → 302 to OAUTH_FAILURE_REDIRECT?error=<reason>; nothing created, no code issued', async () => {
      const cases: { name: string; run: () => Promise<LightMyRequestResponse>; error: string }[] = [
        {
          name: 'access_denied',
          error: 'access_denied',
          run: async () => {
            const flow = await startFlow(t.app);
            return callback(t.app, `?error=access_denied&state=${flow.state}`, flow.cookie);
          },
        },
        {
          name: 'error=server_error',
          error: 'provider_error',
          run: async () => {
            const flow = await startFlow(t.app);
            return callback(t.app, `?error=server_error&state=${flow.state}`, flow.cookie);
          },
        },
        {
          name: 'token endpoint fails',
          error: 'token_exchange_failed',
          run: async () => {
            idp.failToken = true;
            return (await signInWithGoogle(idp, t, googleUser())).res;
          },
        },
        {
          name: 'userinfo fails',
          error: 'userinfo_failed',
          run: async () => {
            idp.failUserinfo = true;
            return (await signInWithGoogle(idp, t, googleUser())).res;
          },
        },
        { name: 'unverified Google email', error: 'account_not_allowed', run: async () => (await signInWithGoogle(idp, t, googleUser({ email_verified: false }))).res },
      ];
      for (const c of cases) {
        idp.failToken = false;
        idp.failUserinfo = false;
        const before = await totals(t);
        const res = await c.run();
        expect({ case: c.name, status: res.statusCode, location: res.headers.location }).toEqual({ case: c.name, status: 302, location: `${FAILURE}?error=${c.error}` });
        expect(res.body).not.toMatch(/stack|Error:/);
        expect(await totals(t)).toEqual(before);
      }
    });

    it('bad input is still a 400 problem, not a redirect: unknown/reused/cookie-less state, missing or huge parameters', async () => {
      const flow = await startFlow(t.app);
      const back = await authorize(flow);
      idp.claims = googleUser();
      const code = back.searchParams.get('code')!;
      const before = await totals(t);
      const tokenCalls = idp.tokenRequests.length;
      expectProblem(await callback(t.app, back.search), 400);
      expectProblem(await callback(t.app, `?code=${code}&state=${randomBytes(32).toString('base64url')}`, flow.cookie), 400);
      expectProblem(await callback(t.app, `?code=${code}`, flow.cookie), 400, 'urn:bastion:problem:validation');
      expectProblem(await callback(t.app, `?code=${HUGE}&state=${flow.state}`, flow.cookie), 400, 'urn:bastion:problem:validation');
      expect(await totals(t)).toEqual(before);
      expect(idp.tokenRequests.length).toBe(tokenCalls);
    });

    it('no request parameter chooses where the browser goes: injected redirect targets on start and callback are ignored on success and on failure', async () => {
      const started = await startFlow(t.app, `?${INJECTED.slice(1)}`);
      expect(started.location.href).not.toContain('evil');
      const back = await authorize(started);
      idp.claims = googleUser();
      const ok = await callback(t.app, `${back.search}${INJECTED}`, started.cookie);
      expect(ok.statusCode).toBe(302);
      expect(String(ok.headers.location)).toMatch(/^https:\/\/app\.example\.com\/signed-in\?tab=home&code=[A-Za-z0-9_-]+$/);

      const flow = await startFlow(t.app);
      const denied = await callback(t.app, `?error=access_denied&state=${flow.state}${INJECTED}`, flow.cookie);
      expect(denied.statusCode).toBe(302);
      expect(denied.headers.location).toBe(`${FAILURE}?error=access_denied`);
      // error_description is the provider's text, never echoed into the redirect.
      const other = await startFlow(t.app);
      const described = await callback(t.app, `?error=access_denied&error_description=${EVIL}&state=${other.state}`, other.cookie);
      expect(described.headers.location).toBe(`${FAILURE}?error=access_denied`);
    });
    it('two instances: a flow started on A finishes on B, and its one-time code is redeemed on A (and the other way round); state and code are single use across instances', async () => {
      for (const [start, finish] of [
        [t, b],
        [b, t],
      ] as const) {
        const claims = googleUser();
        const { res, back, flow } = await signInWithGoogle(idp, start, claims, { finish });
        expect({ status: res.statusCode, body: res.body }).toMatchObject({ status: 302 });
        const code = new URL(res.headers.location as string).searchParams.get('code')!;
        expectProblem(await callback(start.app, back.search, flow.cookie), 400);
        expectProblem(await callback(finish.app, back.search, flow.cookie), 400);
        const tokens = await exchange(start, { code });
        expect(tokens.statusCode).toBe(200);
        expectProblem(await exchange(finish, { code }), 400);
        const onFinish = (await whoami(finish, tokens.json().accessToken)).json();
        expect(onFinish.amr).toEqual(['google']);
        expect((await whoami(start, tokens.json().accessToken)).json().userId).toBe(onFinish.userId);
        expect(await q(t, 'SELECT subject FROM external_identities WHERE user_id = ?', [onFinish.userId])).toEqual([{ subject: claims.sub }]);
      }
    });
  });

  describe('GOOGLE_ALLOWED_DOMAINS with one domain', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ env: idp.env({ GOOGLE_ALLOWED_DOMAINS: 'Corp.Example.com' }) });
    });
    afterAll(() => t?.close());

    it('the start URL carries hd=<the domain>', async () => {
      const flow = await startFlow(t.app);
      expect(flow.location.searchParams.get('hd')).toBe('corp.example.com');
    });

    it('the hd claim decides — absent, wrong, or only the email\'s domain matching → 403 with nothing created; the right hd → signed in', async () => {
      const refused: Partial<IdpClaims>[] = [
        { email: uniqueEmail('x').replace('@example.com', '@corp.example.com') }, // email domain matches, no hd
        { email: uniqueEmail('x').replace('@example.com', '@corp.example.com'), hd: 'other.example.com' },
        { hd: 'other.example.com' },
        { hd: 'corp.example.com.evil.example' },
        { hd: 'example.com' },
        { hd: '' },
      ];
      for (const overrides of refused) {
        const before = await totals(t);
        const { res } = await signInWithGoogle(idp, t, googleUser(overrides));
        expect(expectProblem(res, 403).detail).toMatch(/domain/i);
        expect(await totals(t)).toEqual(before);
      }
      const local = await createUser(t, { email: uniqueEmail('y').replace('@example.com', '@corp.example.com') });
      const { res: linkRefused } = await signInWithGoogle(idp, t, googleUser({ email: local.email }));
      expectProblem(linkRefused, 403);
      expect(await count(t, 'external_identities WHERE user_id = ?', [local.id])).toBe(0);

      const claims = googleUser({ email: uniqueEmail('z').replace('@example.com', '@corp.example.com'), hd: 'corp.example.com' });
      const { res } = await signInWithGoogle(idp, t, claims);
      expect(res.statusCode).toBe(200);
      // A linked identity is held to the domain rule too, every time.
      expectProblem((await signInWithGoogle(idp, t, { ...claims, hd: undefined })).res, 403);
    });
  });

  describe('GOOGLE_ALLOWED_DOMAINS with two domains', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ env: idp.env({ GOOGLE_ALLOWED_DOMAINS: 'corp.example.com,partner.example.com' }) });
    });
    afterAll(() => t?.close());

    it('the start URL carries no hd; an hd in the list signs in, any other or none → 403', async () => {
      const flow = await startFlow(t.app);
      expect(flow.location.searchParams.has('hd')).toBe(false);
      for (const hd of ['corp.example.com', 'partner.example.com']) {
        expect((await signInWithGoogle(idp, t, googleUser({ hd }))).res.statusCode).toBe(200);
      }
      for (const hd of [undefined, 'other.example.com']) {
        const before = await totals(t);
        expectProblem((await signInWithGoogle(idp, t, googleUser({ hd }))).res, 403);
        expect(await totals(t)).toEqual(before);
      }
    });
  });

  describe('AUTH_REGISTRATION=closed', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ env: idp.env({ AUTH_REGISTRATION: 'closed' }) });
    });
    afterAll(() => t?.close());

    it('a new Google identity → 403 and nothing created; an existing verified account still links, and a linked identity still signs in', async () => {
      const before = await totals(t);
      const stranger = googleUser();
      expect(expectProblem((await signInWithGoogle(idp, t, stranger)).res, 403).detail).toMatch(/registration/i);
      expect(await totals(t)).toEqual(before);
      expect(await count(t, 'users WHERE email = ?', [stranger.email])).toBe(0);

      const local = await createUser(t);
      const claims = googleUser({ email: local.email });
      const first = await signInWithGoogle(idp, t, claims);
      expect(first.res.statusCode).toBe(200);
      expect((await whoami(t, first.res.json().accessToken)).json().userId).toBe(local.id);
      const again = await signInWithGoogle(idp, t, { ...claims, email: uniqueEmail('moved') });
      expect(again.res.statusCode).toBe(200);
      expect((await whoami(t, again.res.json().accessToken)).json().userId).toBe(local.id);
      expect((await totals(t)).users).toBe(before.users + 1);
    });
  });
});
