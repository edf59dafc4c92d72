import type { LightMyRequestResponse } from 'fastify';
import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { SecretBox } from '../../src/auth/mfa/secret-box';
import { hashSecret } from '../../src/common/crypto/secrets';
import { bearer, createUser, em, login, STRONG_PASSWORD, uniqueEmail } from '../support/auth-helpers';
import {
  authorize,
  callback,
  GOOGLE_CALLBACK,
  GOOGLE_START,
  s256,
  setCookieNamed,
  signInWithGoogle,
  startFlow,
  type StartedFlow,
} from '../support/google-flow';
import { GoogleIdp, type IdpClaims } from '../support/google-idp';
import { expectProblem } from '../support/problem-assertions';
import { extractToken, type SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { createTestApp, type TestApp } from '../support/test-app';
import { base32Encode, secondsLeftInStep, steadyStep, totp } from '../support/totp';

/**
 * Google sign-in (issue 6) against a real local OpenID provider, without OAUTH_SUCCESS_REDIRECT /
 * OAUTH_FAILURE_REDIRECT: the callback answers the login body or a problem. The redirect, domain,
 * closed-registration, two-instance and not-configured variants are in google-config.e2e.spec.ts.
 */

const CALLBACK_URL = 'http://localhost:3000/api/v1/auth/google/callback';
const HUGE = 'a'.repeat(10_240);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let subCounter = 0;
const newSub = () => `1${Date.now()}${(subCounter += 1)}`;
const googleUser = (overrides: Partial<IdpClaims> = {}): IdpClaims => ({
  sub: newSub(),
  email: uniqueEmail('g'),
  email_verified: true,
  name: 'Grace Hopper',
  picture: 'https://example.com/p.png',
  ...overrides,
});

describe('Google sign-in: start, callback and account resolution (issue 6; ASVS 6.8.1, V10)', () => {
  const idp = new GoogleIdp();
  let t: TestApp;
  let sink: SmtpSink;

  const q = <T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> => em(t).execute(sql, params);
  const count = async (sql: string, params: unknown[] = []) => (await q<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params))[0].n;
  const totals = async () => ({
    users: await count('users'),
    identities: await count('external_identities'),
    sessions: await count('sessions'),
    codes: await count('oauth_exchange_codes'),
  });
  const whoami = (accessToken: string) => t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: bearer(accessToken) });
  const me = (accessToken: string) => t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(accessToken) });
  const identitiesOf = (userId: string) => q<{ provider: string; subject: string; email: string }>('SELECT provider, subject, email FROM external_identities WHERE user_id = ?', [userId]);
  const auditOf = (userId: string, type: string) =>
    q<{ outcome: string; actor_id: string | null; details: Record<string, unknown> }>('SELECT outcome, actor_id, details FROM audit_events WHERE target_id = ? AND type = ? ORDER BY at', [userId, type]);
  const failuresWith = async (reason: string) => count(`audit_events WHERE type = 'auth.login.failed' AND details->>'method' = 'google' AND details->>'reason' = ?`, [reason]);

  /** A full sign-in that must succeed with tokens; returns the signed-in user's id and the tokens. */
  async function signedIn(claims: IdpClaims): Promise<{ userId: string; accessToken: string; res: LightMyRequestResponse }> {
    const { res } = await signInWithGoogle(idp, t, claims);
    expect({ status: res.statusCode, body: res.body }).toMatchObject({ status: 200 });
    const { accessToken } = res.json();
    const who = await whoami(accessToken);
    expect(who.statusCode).toBe(200);
    return { userId: who.json().userId, accessToken, res };
  }

  beforeAll(async () => {
    sink = await startSmtpSink();
    await idp.start();
    t = await createTestApp({ env: idp.env({ SMTP_URL: sink.url }) });
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
    await idp.stop();
  });
  beforeEach(() => {
    idp.failToken = false;
    idp.failUserinfo = false;
  });

  describe('GET /auth/google (start)', () => {
    it('answers 302 to the authorization endpoint: response_type=code, the configured client and callback, scope "openid email profile", a ≥ 128-bit state and a PKCE S256 challenge; no hd without an allow-list', async () => {
      const a = await startFlow(t.app);
      const b = await startFlow(t.app);
      expect(`${a.location.origin}${a.location.pathname}`).toBe(`${idp.url}/authorize`);
      const p = a.location.searchParams;
      expect(p.get('response_type')).toBe('code');
      expect(p.get('client_id')).toBe('bastion-test-client');
      expect(p.get('redirect_uri')).toBe(CALLBACK_URL);
      expect(p.get('scope')).toBe('openid email profile');
      expect(p.get('code_challenge_method')).toBe('S256');
      // S256 of a verifier: 32 bytes, base64url without padding.
      expect(a.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(a.state).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(a.state, 'base64url').length).toBeGreaterThanOrEqual(16);
      expect(p.has('hd')).toBe(false);
      expect(p.has('code_verifier')).toBe(false);
      expect(a.location.href).not.toContain('bastion-test-secret');
      // Every start is a fresh flow.
      expect(b.state).not.toBe(a.state);
      expect(b.challenge).not.toBe(a.challenge);
      expect(a.res.body).toBe('');
    });

    it('signs the browser-binding cookie with a key of its own: HMAC-SHA256 under HKDF-SHA256(OAUTH_STATE_SECRET), never a key from the JWT private key', async () => {
      const flow = await startFlow(t.app);
      const [nonce, signature] = flow.cookie.slice('bastion_oauth='.length).split('.');
      const secret = t.config.oauth.stateSecret;
      expect(secret).toHaveLength(32);
      const key = Buffer.from(hkdfSync('sha256', secret!, Buffer.alloc(0), 'bastion oauth state cookie v1', 32)).toString('base64url');
      expect(signature).toBe(createHmac('sha256', key).update(nonce).digest('base64url'));
      // The same nonce signed the old way (a key hashed from the JWT private key) is refused.
      const jwtDerived = createHash('sha256').update(`bastion-oauth-cookie:${t.config.jwt.privateKeyPem}`).digest('hex');
      const forged = `bastion_oauth=${nonce}.${createHmac('sha256', jwtDerived).update(nonce).digest('base64url')}`;
      const back = await authorize(flow);
      idp.claims = googleUser();
      expectProblem(await callback(t.app, back.search, forged), 400);
    });

    it('binds the flow to the browser with a signed, HttpOnly, Secure, SameSite=Lax cookie, and keeps the state server-side only as a hash with the verifier encrypted (10 minutes)', async () => {
      const flow = await startFlow(t.app);
      const attributes = flow.setCookie.split(';').map((s) => s.trim());
      expect(attributes).toEqual(expect.arrayContaining(['HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/api/v1/auth/google', 'Max-Age=600']));
      expect(attributes).not.toContain('SameSite=Strict');
      const value = flow.cookie.slice('bastion_oauth='.length);
      expect(value).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
      expect(value).not.toContain(flow.state);

      const rows = await q<{ state_hash: string; verifier_ciphertext: string; browser_hash: string; ttl: number }>(
        'SELECT state_hash, verifier_ciphertext, browser_hash, extract(epoch FROM expires_at - now())::float AS ttl FROM oauth_states WHERE state_hash = ?',
        [hashSecret(flow.state)],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].browser_hash).toBe(hashSecret(value.split('.')[0]));
      expect(rows[0].ttl).toBeGreaterThan(590);
      expect(rows[0].ttl).toBeLessThanOrEqual(600);
      expect(await count('oauth_states WHERE state_hash = ? OR browser_hash = ?', [flow.state, value])).toBe(0);

      // The verifier the provider later receives is nowhere in plain text in the row.
      const back = await authorize(flow);
      idp.claims = googleUser();
      expect((await callback(t.app, back.search, flow.cookie)).statusCode).toBe(200);
      const verifier = idp.tokenRequests.at(-1)!.body.code_verifier;
      expect(rows[0].verifier_ciphertext).not.toContain(verifier);
      // Single use: the row is gone once the callback consumed it.
      expect(await count('oauth_states WHERE state_hash = ?', [hashSecret(flow.state)])).toBe(0);
    });

    it('no request parameter chooses where the browser goes: redirect_uri, next, callbackURL, hd, scope on the start URL are ignored', async () => {
      const evil = encodeURIComponent('https://evil.example/steal');
      const flow = await startFlow(t.app, `?redirect_uri=${evil}&next=${evil}&callbackURL=${evil}&returnTo=${evil}&hd=evil.example&scope=openid`);
      expect(`${flow.location.origin}${flow.location.pathname}`).toBe(`${idp.url}/authorize`);
      expect(flow.location.searchParams.get('redirect_uri')).toBe(CALLBACK_URL);
      expect(flow.location.searchParams.get('scope')).toBe('openid email profile');
      expect(flow.location.searchParams.has('hd')).toBe(false);
      expect(flow.location.href).not.toContain('evil');
      // …and the provider sends the browser back to the configured callback, where the flow still completes normally.
      const back = await authorize(flow);
      expect(`${back.origin}${back.pathname}`).toBe(CALLBACK_URL);
      idp.claims = googleUser();
      const res = await callback(t.app, back.search, flow.cookie);
      expect(res.statusCode).toBe(200);
      expect(res.headers.location).toBeUndefined();
    });

    it('callback-shaped parameters on the start route (?code, ?error) are not a callback: still a fresh 302 to the provider', async () => {
      const before = idp.tokenRequests.length;
      for (const query of ['?code=abc&state=' + 'x'.repeat(43), '?error=access_denied']) {
        const res = await t.app.inject({ method: 'GET', url: `${GOOGLE_START}${query}` });
        expect({ query, status: res.statusCode }).toEqual({ query, status: 302 });
        expect(String(res.headers.location)).toMatch(new RegExp(`^${idp.url}/authorize\\?`));
      }
      expect(idp.tokenRequests.length).toBe(before);

      // Not even a genuine code + state + cookie of a started flow turns the start route into a sign-in…
      const flow = await startFlow(t.app);
      const back = await authorize(flow);
      idp.claims = googleUser();
      const users = await count('users');
      const res = await t.app.inject({ method: 'GET', url: `${GOOGLE_START}${back.search}`, headers: { cookie: flow.cookie } });
      expect(res.statusCode).toBe(302);
      expect(new URL(res.headers.location as string).searchParams.get('state')).not.toBe(flow.state);
      expect(idp.tokenRequests.length).toBe(before);
      expect(await count('users')).toBe(users);
      // …and it leaves that flow alone: the real callback still finishes it.
      expect((await callback(t.app, back.search, flow.cookie)).statusCode).toBe(200);
    });
  });

  describe('GET /auth/google/callback: who it is', () => {
    it('a new Google identity: the token request carries the PKCE verifier of the S256 challenge and the configured client credentials; userinfo gets the token only in the Authorization header; an active, verified viewer is created and linked', async () => {
      const claims = googleUser({ name: '  Grace Hopper  ' });
      const before = await totals();
      const tokensBefore = idp.tokenRequests.length;
      const userinfoBefore = idp.userinfoRequests.length;
      const { flow, back, res } = await signInWithGoogle(idp, t, claims);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const body = res.json();
      expect(body).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String), tokenType: 'Bearer', expiresIn: expect.any(Number) });

      // PKCE + client authentication at the token endpoint.
      expect(idp.tokenRequests.length).toBe(tokensBefore + 1);
      const token = idp.tokenRequests.at(-1)!;
      expect(token.body.grant_type).toBe('authorization_code');
      expect(token.body.code).toBe(back.searchParams.get('code'));
      expect(token.body.redirect_uri).toBe(CALLBACK_URL);
      expect(token.body.code_verifier).toMatch(/^[A-Za-z0-9_~.-]{43,128}$/);
      expect(s256(token.body.code_verifier)).toBe(flow.challenge);
      // passport-oauth2 (node-oauth) authenticates with client_secret_post: id + secret in the form body.
      expect(token.body.client_id).toBe('bastion-test-client');
      expect(token.body.client_secret).toBe('bastion-test-secret');
      expect(token.authorization).toBeUndefined();

      // Userinfo: bearer header, never ?access_token=.
      expect(idp.userinfoRequests.length).toBe(userinfoBefore + 1);
      const userinfo = idp.userinfoRequests.at(-1)!;
      expect(userinfo.authorization).toMatch(/^Bearer [A-Za-z0-9._-]{20,}$/);
      expect(userinfo.url).not.toMatch(/access_token/);
      expect(new URL(userinfo.url, idp.url).pathname).toBe('/userinfo');

      // The binding cookie is cleared.
      const cleared = setCookieNamed(res, 'bastion_oauth');
      expect(cleared).toMatch(/^bastion_oauth=;/);
      expect(cleared).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/);

      const who = (await whoami(body.accessToken)).json();
      expect(who.amr).toEqual(['google']);
      const profile = (await me(body.accessToken)).json();
      expect(profile).toMatchObject({ id: who.userId, email: claims.email, displayName: 'Grace Hopper', emailVerified: true, status: 'active', roles: ['viewer'], mfaEnabled: false });
      const after = await totals();
      expect(after.users).toBe(before.users + 1);
      expect(after.identities).toBe(before.identities + 1);
      expect(await identitiesOf(who.userId)).toEqual([{ provider: 'google', subject: claims.sub, email: claims.email }]);
      const [row] = await q<{ password_hash: string | null }>('SELECT password_hash FROM users WHERE id = ?', [who.userId]);
      expect(row.password_hash).toBeNull();

      expect(await auditOf(who.userId, 'user.created')).toEqual([expect.objectContaining({ outcome: 'success', actor_id: who.userId })]);
      const logins = await auditOf(who.userId, 'auth.google.login');
      expect(logins).toEqual([expect.objectContaining({ outcome: 'success', actor_id: who.userId, details: expect.objectContaining({ amr: ['google'] }) })]);
      expect(JSON.stringify(logins)).not.toContain(body.accessToken);
      // 16.3.1: every completed sign-in is also the auth.login.succeeded of API.md, with its amr.
      expect(await auditOf(who.userId, 'auth.login.succeeded')).toEqual([
        expect.objectContaining({ outcome: 'success', actor_id: who.userId, details: expect.objectContaining({ amr: ['google'] }) }),
      ]);
      const [session] = await q<{ amr: string[] }>('SELECT amr FROM sessions WHERE user_id = ?', [who.userId]);
      expect(session.amr).toEqual(['google']);
    });

    it('6.8.1: a returning identity is found by its Google sub — same user, no new rows — even after its Google email changed, even to another local user\'s address', async () => {
      const claims = googleUser();
      const first = await signedIn(claims);
      const other = await createUser(t);
      const before = await totals();

      const renamed = await signedIn({ ...claims, email: uniqueEmail('renamed') });
      expect(renamed.userId).toBe(first.userId);
      const takenAddress = await signedIn({ ...claims, email: other.email });
      expect(takenAddress.userId).toBe(first.userId);

      const after = await totals();
      expect(after.users).toBe(before.users);
      expect(after.identities).toBe(before.identities);
      expect(await identitiesOf(other.id)).toEqual([]);
      // Each sign-in is a new session (7.2.4).
      expect(after.sessions).toBe(before.sessions + 2);
      const sids = await Promise.all([first, renamed, takenAddress].map(async (s) => (await whoami(s.accessToken)).json().sessionId));
      expect(new Set(sids).size).toBe(3);
    });

    it('links a verified local account with the same email (case-insensitively): audit auth.google.linked, and the local password keeps working', async () => {
      const local = await createUser(t);
      const claims = googleUser({ email: local.email.toUpperCase() });
      const before = await totals();
      const { userId, accessToken } = await signedIn(claims);
      expect(userId).toBe(local.id);
      expect((await whoami(accessToken)).json().amr).toEqual(['google']);
      expect((await totals()).users).toBe(before.users);
      expect(await identitiesOf(local.id)).toEqual([{ provider: 'google', subject: claims.sub, email: local.email }]);
      expect(await auditOf(local.id, 'auth.google.linked')).toEqual([
        expect.objectContaining({ outcome: 'success', actor_id: local.id, details: expect.objectContaining({ provider: 'google', email: local.email }) }),
      ]);
      expect((await auditOf(local.id, 'auth.google.linked'))[0].details).not.toHaveProperty('claimedPendingAccount');
      // ASVS 6.3.7: the owner is told a new way into the account exists.
      expect((await sink.next(local.email, 'Security notice for your account')).text).toContain('A Google account was linked to your account');
      const password = await login(t, local.email, local.password);
      expect(password.statusCode).toBe(200);
      expect((await whoami(password.json().accessToken)).json().amr).toEqual(['pwd']);
      // The next Google sign-in goes by sub; it does not link again.
      expect((await signedIn(claims)).userId).toBe(local.id);
      expect(await auditOf(local.id, 'auth.google.linked')).toHaveLength(1);
    });

    it('claims a pending local account registered by a squatter: same row, verified, active, linked; the squatter\'s password and verification link stop working', async () => {
      const email = uniqueEmail('victim');
      const squatterPassword = 'the squatter chose this one';
      const reg = await t.app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email, password: squatterPassword, displayName: 'Squatter' } });
      expect(reg.statusCode).toBe(202);
      const link = extractToken(await sink.waitFor((m) => m.to.includes(email) && m.subject === 'Verify your email address'), '/verify-email');
      const [pending] = await q<{ id: string; status: string; email_verified: boolean; password_hash: string | null }>(
        'SELECT id, status, email_verified, password_hash FROM users WHERE email = ?',
        [email],
      );
      expect(pending).toMatchObject({ status: 'pending', email_verified: false, password_hash: expect.stringMatching(/^\$argon2id\$/) });
      expect((await login(t, email, squatterPassword)).statusCode).toBe(403);
      const before = await totals();

      const { userId, accessToken } = await signedIn(googleUser({ email }));
      expect(userId).toBe(pending.id);
      expect((await totals()).users).toBe(before.users);
      const [claimed] = await q<{ status: string; email_verified: boolean; password_hash: string | null }>('SELECT status, email_verified, password_hash FROM users WHERE id = ?', [pending.id]);
      expect(claimed).toEqual({ status: 'active', email_verified: true, password_hash: null });
      expect((await me(accessToken)).json()).toMatchObject({ id: pending.id, emailVerified: true, status: 'active' });
      expect(await identitiesOf(pending.id)).toHaveLength(1);
      expect(await auditOf(pending.id, 'auth.google.linked')).toEqual([expect.objectContaining({ details: expect.objectContaining({ claimedPendingAccount: true }) })]);

      // The squatter gains nothing: the password they set is gone (the same 401 as any wrong password)…
      const squatter = await login(t, email, squatterPassword);
      expectProblem(squatter, 401);
      expect(squatter.json().detail).toBe((await login(t, uniqueEmail('nobody'), squatterPassword)).json().detail);
      // …and the verification link mailed to the address no longer works either.
      expectProblem(await t.app.inject({ method: 'POST', url: '/api/v1/auth/verify-email', payload: { token: link } }), 400);
    });

    it('an unverified Google email is refused with 403 — nothing created, and a verified local account with that address is not linked', async () => {
      const local = await createUser(t);
      for (const claims of [googleUser({ email_verified: false }), googleUser({ email_verified: undefined }), googleUser({ email: local.email, email_verified: false })]) {
        const before = await totals();
        const { res } = await signInWithGoogle(idp, t, claims);
        expect(expectProblem(res, 403).detail).toMatch(/not verified/i);
        expect(await totals()).toEqual(before);
        expect(await count('users WHERE email = ?', [claims.email])).toBe(claims.email === local.email ? 1 : 0);
      }
      expect(await identitiesOf(local.id)).toEqual([]);
      expect(await failuresWith('account_not_allowed')).toBeGreaterThanOrEqual(3);
    });

    it('a disabled user is refused with 403 account-disabled, whether found by email (not linked) or by a linked sub; a deleted one with 403 too', async () => {
      const disabled = await createUser(t, { status: 'disabled' });
      const byEmail = await signInWithGoogle(idp, t, googleUser({ email: disabled.email }));
      expectProblem(byEmail.res, 403, 'urn:bastion:problem:account-disabled');
      expect(await identitiesOf(disabled.id)).toEqual([]);

      const claims = googleUser();
      const { userId } = await signedIn(claims);
      await q(`UPDATE users SET status = 'disabled' WHERE id = ?`, [userId]);
      const before = await totals();
      expectProblem((await signInWithGoogle(idp, t, claims)).res, 403, 'urn:bastion:problem:account-disabled');
      expect(await totals()).toEqual(before);

      const gone = googleUser();
      const deleted = await signedIn(gone);
      await q('UPDATE users SET deleted_at = now() WHERE id = ?', [deleted.userId]);
      const beforeDeleted = await totals();
      expectProblem((await signInWithGoogle(idp, t, gone)).res, 403);
      expect(await totals()).toEqual(beforeDeleted);
    });

    it('6.3.3: a user with TOTP gets mfaRequired (no session yet); /mfa/verify with a TOTP code then yields amr ["google","otp"]', async () => {
      const user = await createUser(t);
      const secret = base32Encode(randomBytes(20));
      const sealed = t.app.get(SecretBox).seal(secret, user.id);
      await q(
        `INSERT INTO totp_factors (id, user_id, status, secret_ciphertext, key_id, last_used_step, enabled_at)
         VALUES (gen_random_uuid(), ?, 'active', ?, ?, ?, now() - interval '10 minutes')`,
        [user.id, sealed.ciphertext, sealed.keyId, Math.floor(Date.now() / 30_000) - 20],
      );
      const { res } = await signInWithGoogle(idp, t, googleUser({ email: user.email }));
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toEqual({ mfaRequired: true, mfaToken: expect.any(String), methods: ['totp', 'recovery_code'] });
      expect(res.body).not.toMatch(/accessToken|refreshToken/);
      expect(await count('sessions WHERE user_id = ?', [user.id])).toBe(0);
      expect(await auditOf(user.id, 'auth.google.login')).toEqual([]);
      // Linked nonetheless (Google proved the mailbox); the account is the local one.
      expect(await identitiesOf(user.id)).toHaveLength(1);

      if (secondsLeftInStep() < 3) await sleep(secondsLeftInStep() * 1000 + 150);
      const verified = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/verify', payload: { mfaToken: body.mfaToken, code: totp(secret) } });
      expect({ status: verified.statusCode, body: verified.body }).toMatchObject({ status: 200 });
      const who = (await whoami(verified.json().accessToken)).json();
      expect(who).toMatchObject({ userId: user.id, amr: ['google', 'otp'] });
      const [session] = await q<{ amr: string[] }>('SELECT amr FROM sessions WHERE user_id = ?', [user.id]);
      expect(session.amr).toEqual(['google', 'otp']);
      // The completed sign-in is audited by its last step, carrying the Google first factor in amr.
      expect(await auditOf(user.id, 'auth.mfa.verified')).toEqual([expect.objectContaining({ outcome: 'success', details: expect.objectContaining({ amr: ['google', 'otp'] }) })]);
      expect(await auditOf(user.id, 'auth.login.succeeded')).toEqual([expect.objectContaining({ outcome: 'success', details: expect.objectContaining({ amr: ['google', 'otp'] }) })]);
    });

    it('no callback parameter chooses where the browser goes: redirect_uri / next / returnTo on the callback change nothing', async () => {
      const evil = encodeURIComponent('https://evil.example/steal');
      const { res } = await signInWithGoogle(idp, t, googleUser(), { extraQuery: `&redirect_uri=${evil}&next=${evil}&returnTo=${evil}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers.location).toBeUndefined();
      expect(res.json().accessToken).toEqual(expect.any(String));
      // The token request still names the configured callback, not the injected one.
      expect(idp.tokenRequests.at(-1)!.body.redirect_uri).toBe(CALLBACK_URL);
    });
  });

  describe('GET /auth/google/callback: state and browser binding (400, nothing created, Google never asked)', () => {
    /** A started flow whose provider round trip is done: the callback query and the browser cookie. */
    async function ready(): Promise<{ flow: StartedFlow; back: URL }> {
      const flow = await startFlow(t.app);
      idp.claims = googleUser();
      return { flow, back: await authorize(flow) };
    }

    async function expectRejected(run: () => Promise<LightMyRequestResponse>, type = 'about:blank'): Promise<Record<string, unknown>> {
      const before = await totals();
      const tokenCalls = idp.tokenRequests.length;
      const res = await run();
      const body = expectProblem(res, 400, type);
      expect(await totals()).toEqual(before);
      expect(idp.tokenRequests.length).toBe(tokenCalls);
      return body;
    }

    it('missing state, missing code, or neither → 400 validation problem', async () => {
      const { flow, back } = await ready();
      const code = back.searchParams.get('code')!;
      for (const search of [`?code=${code}`, `?state=${flow.state}`, '', `?code=&state=${flow.state}`, `?code=${code}&state=`]) {
        const body = await expectRejected(() => callback(t.app, search, flow.cookie), 'urn:bastion:problem:validation');
        expect(body.errors).toEqual([expect.objectContaining({ field: expect.stringMatching(/^(code|state)$/) })]);
      }
      // The flow itself is still intact after those.
      expect((await callback(t.app, back.search, flow.cookie)).statusCode).toBe(200);
    });

    it('a reused state → 400 (single use), also when the same callback arrives twice at once', async () => {
      const { flow, back } = await ready();
      expect((await callback(t.app, back.search, flow.cookie)).statusCode).toBe(200);
      const body = await expectRejected(() => callback(t.app, back.search, flow.cookie));
      expect(body.detail).toMatch(/state/i);

      const race = await ready();
      const users = await count('users');
      const answers = await Promise.all([1, 2].map(() => callback(t.app, race.back.search, race.flow.cookie)));
      expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 400]);
      expect(await count('users')).toBe(users + 1);
    });

    it('a callback without the state cookie → 400', async () => {
      const { back } = await ready();
      await expectRejected(() => callback(t.app, back.search));
      await expectRejected(() => callback(t.app, back.search, 'unrelated=1'));
    });

    it('from another browser → 400: another flow\'s valid cookie, a forged signature, a tampered nonce', async () => {
      const victim = await ready();
      const attacker = await startFlow(t.app);
      await expectRejected(() => callback(t.app, victim.back.search, attacker.cookie));

      for (const tamper of [
        (c: string) => `${c.split('.')[0]}.${'A'.repeat(43)}`,
        (c: string) => `bastion_oauth=${randomBytes(32).toString('base64url')}.${c.split('.')[1]}`,
        (c: string) => c.split('.')[0],
        (_c: string) => `bastion_oauth=${'x'.repeat(5000)}`,
      ]) {
        const fresh = await ready();
        await expectRejected(() => callback(t.app, fresh.back.search, tamper(fresh.flow.cookie)));
      }
    });

    it('an expired state → 400', async () => {
      const { flow, back } = await ready();
      await q(`UPDATE oauth_states SET expires_at = now() - interval '1 second' WHERE state_hash = ?`, [hashSecret(flow.state)]);
      await expectRejected(() => callback(t.app, back.search, flow.cookie));
    });

    it('an unknown state (well-formed, too short, odd characters) → 400', async () => {
      const { flow, back } = await ready();
      const code = back.searchParams.get('code')!;
      for (const state of [randomBytes(32).toString('base64url'), 'short', '%00%FF%FE', '../../etc/passwd', `${flow.state}x`]) {
        await expectRejected(() => callback(t.app, `?code=${code}&state=${state}`, flow.cookie));
      }
    });

    it('a state whose stored verifier cannot be opened (sealed under a key this instance lacks, or tampered) → a prompt 502 problem, not a hang', async () => {
      for (const corrupt of [`key_id = 'ffffffffffffffff'`, `verifier_ciphertext = 'AAAA.AAAA.AAAA'`]) {
        const { flow, back } = await ready();
        await q(`UPDATE oauth_states SET ${corrupt} WHERE state_hash = ?`, [hashSecret(flow.state)]);
        const before = await totals();
        const tokenCalls = idp.tokenRequests.length;
        const res = await Promise.race([callback(t.app, back.search, flow.cookie), sleep(5000).then(() => null)]);
        expect(res).not.toBeNull();
        expectProblem(res!, 502);
        expect(await totals()).toEqual(before);
        expect(idp.tokenRequests.length).toBe(tokenCalls);
        // Still single use.
        expectProblem(await callback(t.app, back.search, flow.cookie), 400);
      }
    });

    it('huge (10 kB) or repeated code/state values → 400 validation problem', async () => {
      const { flow, back } = await ready();
      const code = back.searchParams.get('code')!;
      for (const search of [
        `?code=${HUGE}&state=${flow.state}`,
        `?code=${code}&state=${HUGE}`,
        `?code=${code}&code=${code}&state=${flow.state}`,
        `?code=${code}&state=${flow.state}&state=${flow.state}`,
        `?code=${code}&state=${flow.state}&error=${HUGE}`,
      ]) {
        await expectRejected(() => callback(t.app, search, flow.cookie), 'urn:bastion:problem:validation');
      }
    });
  });

  describe('GET /auth/google/callback: provider errors without OAUTH_FAILURE_REDIRECT (never 500)', () => {
    it('error=access_denied (the user cancelled) → 403 problem, audited, nothing created', async () => {
      const flow = await startFlow(t.app);
      const before = await totals();
      const failures = await failuresWith('access_denied');
      const res = await callback(t.app, `?error=access_denied&state=${flow.state}`, flow.cookie);
      expectProblem(res, 403);
      expect(await totals()).toEqual(before);
      expect(await failuresWith('access_denied')).toBe(failures + 1);
    });

    it('another error from the authorization endpoint (error=server_error) → 502 problem', async () => {
      const flow = await startFlow(t.app);
      const before = await totals();
      expectProblem(await callback(t.app, `?error=server_error&error_description=boom&state=${flow.state}`, flow.cookie), 502);
      expect(await totals()).toEqual(before);
    });

    it('a failing token endpoint → 502 problem; userinfo never called; nothing created', async () => {
      const flow = await startFlow(t.app);
      const back = await authorize(flow);
      idp.claims = googleUser();
      idp.failToken = true;
      const before = await totals();
      const userinfo = idp.userinfoRequests.length;
      const failures = await failuresWith('token_exchange_failed');
      expectProblem(await callback(t.app, back.search, flow.cookie), 502);
      expect(idp.userinfoRequests.length).toBe(userinfo);
      expect(await totals()).toEqual(before);
      expect(await failuresWith('token_exchange_failed')).toBe(failures + 1);
    });

    it('a failing userinfo endpoint → 502 problem; nothing created', async () => {
      const flow = await startFlow(t.app);
      const back = await authorize(flow);
      idp.claims = googleUser();
      idp.failUserinfo = true;
      const before = await totals();
      const failures = await failuresWith('userinfo_failed');
      expectProblem(await callback(t.app, back.search, flow.cookie), 502);
      expect(await totals()).toEqual(before);
      expect(await failuresWith('userinfo_failed')).toBe(failures + 1);
    });
  });

  it('the Google routes are documented in the OpenAPI spec', async () => {
    const spec = (await t.app.inject({ method: 'GET', url: '/docs-json' })).json();
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining([GOOGLE_START, GOOGLE_CALLBACK, '/api/v1/auth/oauth/exchange']));
  });

  it('a user created by Google has no password: a password login answers the ordinary 401', async () => {
    const { userId } = await signedIn(googleUser());
    const [row] = await q<{ email: string }>('SELECT email FROM users WHERE id = ?', [userId]);
    expectProblem(await login(t, row.email, STRONG_PASSWORD), 401);
  });

  describe('claiming an unverified account with EMAIL_VERIFICATION_REQUIRED=false', () => {
    let open: TestApp;
    beforeAll(async () => {
      open = await createTestApp({ env: idp.env({ SMTP_URL: sink.url, EMAIL_VERIFICATION_REQUIRED: 'false' }) });
    });
    afterAll(() => open?.close());

    const post = (url: string, payload: unknown, headers: Record<string, string> = {}) => open.app.inject({ method: 'POST', url, payload: payload as string, headers });
    const ownQ = <T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> => em(open).execute(sql, params);

    it('the owner signing in with Google wipes the squatter out: every session and refresh token, TOTP and recovery codes, the password; audited account.claimed, mailed', async () => {
      const email = uniqueEmail('victim');
      const password = 'the squatter chose this one';
      // The squatter registers the victim's address (usable at once, still unverified), signs in and enrols TOTP.
      expect((await post('/api/v1/auth/register', { email, password, displayName: 'Squatter' })).statusCode).toBe(202);
      const bearerLogin = await post('/api/v1/auth/login', { email, password });
      expect(bearerLogin.statusCode).toBe(200);
      const squatter = bearerLogin.json();
      const setup = await post('/api/v1/auth/mfa/totp/setup', { password }, bearer(squatter.accessToken));
      expect(setup.statusCode).toBe(200);
      await steadyStep();
      const enable = await post('/api/v1/auth/mfa/totp/enable', { code: totp(setup.json().secret) }, bearer(squatter.accessToken));
      expect(enable.statusCode).toBe(200);
      const recoveryCodes: string[] = enable.json().recoveryCodes;
      // A second, cookie session completed with a recovery code.
      const challenge = await post('/api/v1/auth/login', { email, password });
      expect(challenge.json().mfaRequired).toBe(true);
      const cookieLogin = await post('/api/v1/auth/mfa/verify?mode=cookie', { mfaToken: challenge.json().mfaToken, recoveryCode: recoveryCodes[0] });
      expect(cookieLogin.statusCode).toBe(200);
      const cookieHeader = { cookie: setCookieNamed(cookieLogin, '__Host-sid')!.split(';')[0] };
      const [account] = await ownQ<{ id: string; status: string; email_verified: boolean }>('SELECT id, status, email_verified FROM users WHERE email = ?', [email]);
      expect(account).toMatchObject({ status: 'active', email_verified: false });
      const whoamiWith = (headers: Record<string, string>) => open.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers });
      expect((await whoamiWith(bearer(squatter.accessToken))).statusCode).toBe(200);
      expect((await whoamiWith(cookieHeader)).statusCode).toBe(200);

      // The mailbox owner signs in with Google: the same account, no second factor asked (it was the squatter's).
      const { res } = await signInWithGoogle(idp, open, googleUser({ email }));
      expect({ status: res.statusCode, body: res.body }).toMatchObject({ status: 200 });
      const owner = res.json();
      expect(owner).toHaveProperty('accessToken');
      const who = await whoamiWith(bearer(owner.accessToken));
      expect(who.json()).toMatchObject({ userId: account.id, amr: ['google'] });

      // Every session and token of the squatter is dead; only the owner's session lives.
      expectProblem(await whoamiWith(bearer(squatter.accessToken)), 401);
      expectProblem(await whoamiWith(cookieHeader), 401);
      expectProblem(await post('/api/v1/auth/refresh', { refreshToken: squatter.refreshToken }), 401);
      const live = await ownQ<{ id: string }>('SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [account.id]);
      expect(live).toEqual([{ id: who.json().sessionId }]);
      // No second factor and no password of theirs is left.
      expect(await ownQ('SELECT 1 FROM totp_factors WHERE user_id = ?', [account.id])).toEqual([]);
      expect(await ownQ('SELECT 1 FROM recovery_codes WHERE user_id = ?', [account.id])).toEqual([]);
      expect(await ownQ('SELECT password_hash, email_verified FROM users WHERE id = ?', [account.id])).toEqual([{ password_hash: null, email_verified: true }]);
      expectProblem(await post('/api/v1/auth/login', { email, password }), 401);

      const claimed = await ownQ<{ actor_id: string; details: Record<string, unknown> }>(`SELECT actor_id, details FROM audit_events WHERE type = 'account.claimed' AND target_id = ?`, [account.id]);
      expect(claimed).toEqual([{ actor_id: account.id, details: expect.objectContaining({ provider: 'google', sessionsEnded: 2 }) }]);
      const mail = await sink.next(email, 'Your account was claimed with Google');
      expect(mail.text).toMatch(/lost access/);
    });
  });
});
