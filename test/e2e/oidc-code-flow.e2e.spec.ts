import { createLocalJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { PrincipalCache } from '../../src/auth/principal/principal-cache';
import { InteractionsService } from '../../src/oidc/interaction/interactions.service';
import { createUser, em, type CreatedUser } from '../support/auth-helpers';
import { adminHeaders, registerClient, type RegisteredClient } from '../support/oidc-helpers';
import { authorizationRequest, browserPost, CookieJar, cookieSignIn, exchange, follow, ISSUER, relyingParty } from '../support/oidc-rp';
import { createTestApp, type TestApp } from '../support/test-app';

const CALLBACK = 'https://wiki.example.test/callback';

describe('OIDC authorization code flow with openid-client 6 as the relying party', () => {
  let t: TestApp;
  let admin: Record<string, string>;
  let wiki: RegisteredClient;
  let rp: client.Configuration;
  let user: CreatedUser;
  let departmentId: string;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await adminHeaders(t);
    wiki = await registerClient(t, admin, { name: 'Wiki', redirectUris: [CALLBACK], firstParty: true, scopes: ['openid', 'profile', 'email', 'roles', 'offline_access'] });
    rp = await relyingParty(t, wiki.clientId, wiki.clientSecret);
    [{ id: departmentId }] = await em(t).execute(`INSERT INTO departments (id, name) VALUES (gen_random_uuid(), 'Research') RETURNING id`);
    user = await createUser(t, { roles: ['editor'], departmentId });
  });
  afterAll(() => t.close());

  it('a relying party configured with only the issuer URL discovers the provider', () => {
    expect(rp.serverMetadata().issuer).toBe(ISSUER);
  });

  it('signed in: code (PKCE S256, state, nonce) → ID token with sub, email, email_verified, name, amr, acr, auth_time; scope roles adds roles and department; userinfo says the same', async () => {
    const jar = new CookieJar();
    await cookieSignIn(t, jar, user);
    const request = await authorizationRequest(rp, CALLBACK, { scope: 'openid email profile roles' });
    const landing = await follow(t, jar, request.url);
    expect(landing.kind).toBe('callback');
    const callback = (landing as { url: URL }).url;
    expect(callback.searchParams.get('iss')).toBe(ISSUER);
    const tokens = await exchange(rp, request, callback);
    const claims = tokens.claims()!;
    const [session] = await em(t).execute(`SELECT id, auth_time FROM sessions WHERE user_id = ? AND revoked_at IS NULL`, [user.id]);
    expect(claims).toMatchObject({
      iss: ISSUER,
      aud: wiki.clientId,
      sub: user.id,
      email: user.email,
      email_verified: true,
      name: 'Test User',
      amr: ['pwd'],
      acr: 'urn:bastion:acr:sfa',
      auth_time: Math.floor(new Date(session.auth_time).getTime() / 1000),
      nonce: request.nonce,
      roles: ['editor'],
      department: { id: departmentId, name: 'Research' },
    });
    // Signed with the API's key: the one JWKS verifies it.
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    const { protectedHeader } = await jwtVerify(tokens.id_token!, createLocalJWKSet(jwks), { issuer: ISSUER, audience: wiki.clientId });
    expect(protectedHeader.alg).toBe('RS256');
    const info = await client.fetchUserInfo(rp, tokens.access_token, user.id);
    expect(info).toMatchObject({ sub: user.id, email: user.email, email_verified: true, name: 'Test User', roles: ['editor'], department: { id: departmentId, name: 'Research' } });
  });

  it('first-party: no consent page, and a refresh token without offline_access or prompt=consent (override 3 of 3)', async () => {
    const jar = new CookieJar();
    await cookieSignIn(t, jar, user);
    const request = await authorizationRequest(rp, CALLBACK);
    const landing = await follow(t, jar, request.url);
    expect(landing.kind).toBe('callback');
    const tokens = await exchange(rp, request, (landing as { url: URL }).url);
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const audit = await em(t).execute(`SELECT details FROM audit_events WHERE type = 'oidc.grant.given' AND actor_id = ? AND target_id = ?`, [user.id, wiki.clientId]);
    expect(audit.length).toBeGreaterThan(0);
    expect(audit[0].details).toMatchObject({ firstParty: true });
  });

  it('not signed in: the interaction sends the browser to /login?return_to=/oidc/interaction/<uid>; after signing in it finishes', async () => {
    const jar = new CookieJar();
    const request = await authorizationRequest(rp, CALLBACK);
    const first = await follow(t, jar, request.url);
    expect(first.kind).toBe('login');
    const returnTo = new URL((first as { location: string }).location, 'http://localhost:3000').searchParams.get('return_to')!;
    expect(returnTo).toMatch(/^\/oidc\/interaction\/[A-Za-z0-9_-]+$/);
    // What the hosted sign-in page adds to its CSP form-action for this return_to.
    const interactions = t.app.get(InteractionsService);
    expect(await interactions.formActionOrigins(returnTo)).toEqual(['https://wiki.example.test']);
    expect(await interactions.formActionOrigins('/account')).toEqual([]);
    expect(await interactions.formActionOrigins('/oidc/interaction/unknown')).toEqual([]);
    await cookieSignIn(t, jar, user);
    const landing = await follow(t, jar, returnTo);
    expect(landing.kind).toBe('callback');
    const tokens = await exchange(rp, request, (landing as { url: URL }).url);
    expect(tokens.claims()!.sub).toBe(user.id);
  });

  it('arriving from another site (no SameSite=Strict cookie on the redirect chain): a same-origin continue page first, no inline script', async () => {
    const jar = new CookieJar();
    await cookieSignIn(t, jar, user);
    const request = await authorizationRequest(rp, CALLBACK);
    const auth = await t.app.inject({ method: 'GET', url: `${request.url.pathname}${request.url.search}`, headers: { host: 'localhost:3000' } });
    jar.absorb(auth);
    const interaction = auth.headers.location as string;
    const crossSite = await t.app.inject({ method: 'GET', url: interaction, headers: { host: 'localhost:3000', cookie: jar.without('__Host-sid') } });
    expect(crossSite.statusCode).toBe(200);
    expect(crossSite.body).toContain(`<meta http-equiv="refresh" content="0;url=${interaction}?continue=1">`);
    expect(crossSite.body).not.toMatch(/<script/i);
    const landing = await follow(t, jar, `${interaction}?continue=1`);
    expect(landing.kind).toBe('callback');
  });

  it('a disabled user cannot finish: the interaction sends them to sign in again', async () => {
    const other = await createUser(t);
    const jar = new CookieJar();
    await cookieSignIn(t, jar, other);
    await em(t).execute(`UPDATE users SET status = 'disabled' WHERE id = ?`, [other.id]);
    t.app.get(PrincipalCache).invalidate(other.id);
    const request = await authorizationRequest(rp, CALLBACK);
    expect((await follow(t, jar, request.url)).kind).toBe('login');
  });

  describe('third-party clients', () => {
    const PARTNER = 'https://partner.example.test/cb';
    let partner: RegisteredClient;
    let partnerRp: client.Configuration;
    beforeAll(async () => {
      partner = await registerClient(t, admin, { name: 'Partner <Tool>', redirectUris: [PARTNER], scopes: ['openid', 'email', 'profile'] });
      partnerRp = await relyingParty(t, partner.clientId, partner.clientSecret);
    });

    it('get a consent page listing the scopes (escaped), whose CSP form-action allows the client origin; allowing it finishes the flow', async () => {
      const jar = new CookieJar();
      await cookieSignIn(t, jar, user);
      const request = await authorizationRequest(partnerRp, PARTNER);
      const page = await follow(t, jar, request.url);
      expect(page.kind).toBe('page');
      const { res, url } = page as { res: { body: string; headers: Record<string, unknown> }; url: string };
      expect(res.body).toContain('Partner &lt;Tool&gt;');
      expect(res.body).toContain('Your email address');
      expect(res.body).not.toMatch(/<script/i);
      expect(String(res.headers['content-security-policy'])).toMatch(/form-action 'self' https:\/\/partner\.example\.test(;|$)/);
      const confirm = await browserPost(t, jar, `${new URL(url).pathname}/confirm`);
      expect(confirm.statusCode).toBe(303);
      const landing = await follow(t, jar, confirm.headers.location as string);
      expect(landing.kind).toBe('callback');
      const tokens = await exchange(partnerRp, request, (landing as { url: URL }).url);
      expect(tokens.claims()).toMatchObject({ sub: user.id, email: user.email });
      expect(tokens.refresh_token).toBeUndefined();
    });

    it('denying consent sends access_denied to the client', async () => {
      const jar = new CookieJar();
      await cookieSignIn(t, jar, user);
      const request = await authorizationRequest(partnerRp, PARTNER);
      const page = (await follow(t, jar, request.url)) as { url: string };
      const abort = await browserPost(t, jar, `${new URL(page.url).pathname}/abort`);
      const landing = await follow(t, jar, abort.headers.location as string);
      expect(landing.kind).toBe('callback');
      expect((landing as { url: URL }).url.searchParams.get('error')).toBe('access_denied');
    });
  });
});
