import * as client from 'openid-client';
import { createUser, login, type CreatedUser } from '../support/auth-helpers';
import { seedTotp } from '../support/mfa-helpers';
import { adminHeaders, clientCredentials, registerClient, registerResourceServer, API_AUDIENCE, type RegisteredClient } from '../support/oidc-helpers';
import { authorizationRequest, CookieJar, cookieSignIn, exchange, follow, relyingParty } from '../support/oidc-rp';
import { createTestApp, type TestApp } from '../support/test-app';
import { totp } from '../support/totp';

const CALLBACK = 'https://wiki.example.test/callback';

describe('OIDC step-up: acr_values=urn:bastion:acr:mfa, max_age and prompt=login force a fresh sign-in', () => {
  let t: TestApp;
  let wiki: RegisteredClient;
  let rp: client.Configuration;
  beforeAll(async () => {
    t = await createTestApp();
    wiki = await registerClient(t, await adminHeaders(t), { redirectUris: [CALLBACK], firstParty: true });
    rp = await relyingParty(t, wiki.clientId, wiki.clientSecret);
  });
  afterAll(() => t.close());

  /** Signs in with password and TOTP through the API in cookie mode. */
  async function signInWithTotp(jar: CookieJar, user: CreatedUser, secret: string): Promise<void> {
    const first = await login(t, user.email, user.password, 'cookie');
    const { mfaToken } = first.json();
    const verified = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/verify?mode=cookie', payload: { mfaToken, code: totp(secret) } });
    if (verified.statusCode !== 200) throw new Error(`mfa verify failed: ${verified.statusCode} ${verified.body}`);
    jar.absorb(verified);
  }

  it('acr_values=urn:bastion:acr:mfa with a password-only session: sent to /login with mfa=1; the ID token says acr mfa and amr pwd+otp once signed in with TOTP', async () => {
    const user = await createUser(t);
    const jar = new CookieJar();
    await cookieSignIn(t, jar, user);
    const { secret } = await seedTotp(t, user.id);
    const request = await authorizationRequest(rp, CALLBACK, { acr_values: 'urn:bastion:acr:mfa' });
    const landing = await follow(t, jar, request.url);
    expect(landing.kind).toBe('login');
    const location = new URL((landing as { location: string }).location, 'http://localhost:3000');
    expect(location.searchParams.get('mfa')).toBe('1');
    expect(location.searchParams.get('reauth')).toBe('1');
    await signInWithTotp(jar, user, secret);
    const done = await follow(t, jar, location.searchParams.get('return_to')!);
    expect(done.kind).toBe('callback');
    const claims = (await exchange(rp, request, (done as { url: URL }).url)).claims()!;
    expect(claims.acr).toBe('urn:bastion:acr:mfa');
    expect(claims.amr).toEqual(['pwd', 'otp']);
  });

  it('prompt=login: even a live session signs in again; only a sign-in after the request finishes the flow', async () => {
    const user = await createUser(t);
    const jar = new CookieJar();
    await cookieSignIn(t, jar, user);
    // auth_time has one-second resolution: a session from the same second as the request counts as fresh.
    await new Promise((r) => setTimeout(r, 1100));
    const request = await authorizationRequest(rp, CALLBACK, { prompt: 'login' });
    const landing = await follow(t, jar, request.url);
    expect(landing.kind).toBe('login');
    const loginUrl = new URL((landing as { location: string }).location, 'http://localhost:3000');
    const returnTo = loginUrl.searchParams.get('return_to')!;
    // The hosted sign-in page shows its form to this signed-in browser instead of sending it
    // straight back (which would loop between /login and the interaction), and lets the form's
    // final redirect reach the client.
    const page = await t.app.inject({ method: 'GET', url: `${loginUrl.pathname}${loginUrl.search}`, headers: { cookie: jar.without() } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('name="password"');
    expect(String(page.headers['content-security-policy'])).toMatch(/form-action 'self' [^;]*https:\/\/wiki\.example\.test/);
    // Without signing in again, coming back does not finish the flow.
    expect((await follow(t, jar, returnTo)).kind).toBe('login');
    await cookieSignIn(t, jar, user);
    const done = await follow(t, jar, returnTo);
    expect(done.kind).toBe('callback');
    expect((await exchange(rp, request, (done as { url: URL }).url)).claims()!.sub).toBe(user.id);
  });

  it('max_age=0 also forces a fresh sign-in', async () => {
    const user = await createUser(t);
    const jar = new CookieJar();
    await cookieSignIn(t, jar, user);
    await new Promise((r) => setTimeout(r, 1100));
    const request = await authorizationRequest(rp, CALLBACK, { max_age: '0' });
    expect((await follow(t, jar, request.url)).kind).toBe('login');
  });
});

describe('OIDC rate limits: the token endpoint is a credential route', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { THROTTLE_AUTH_LIMIT: '3' } });
  });
  afterAll(() => t.close());

  it('past THROTTLE_AUTH_LIMIT per IP and window: 429 problem+json with Retry-After and X-Request-Id; discovery is not a credential route', async () => {
    const admin = await adminHeaders(t);
    await registerResourceServer(t, admin);
    const service = await registerClient(t, admin, { grantTypes: ['client_credentials'], scopes: ['reports:read'], resources: [API_AUDIENCE] });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await clientCredentials(t, service.clientId, 'wrong secret', { resource: API_AUDIENCE })).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const limited = await clientCredentials(t, service.clientId, service.clientSecret, { resource: API_AUDIENCE });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.json()).toMatchObject({ status: 429, type: 'urn:bastion:problem:rate-limited' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['x-request-id']).toBeDefined();
    expect((await t.app.inject({ method: 'GET', url: '/oidc/.well-known/openid-configuration' })).statusCode).toBe(200);
  });
});
