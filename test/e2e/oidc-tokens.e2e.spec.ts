import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { PrincipalCache } from '../../src/auth/principal/principal-cache';
import { bearer, createUser, em, type CreatedUser } from '../support/auth-helpers';
import { API_AUDIENCE, adminHeaders, basicAuth, clientCredentials, registerClient, registerResourceServer, type RegisteredClient } from '../support/oidc-helpers';
import { authorizationRequest, CookieJar, cookieSignIn, exchange, follow, ISSUER, relyingParty } from '../support/oidc-rp';
import { createTestApp, type TestApp } from '../support/test-app';

const CALLBACK = 'https://wiki.example.test/callback';
const form = { 'content-type': 'application/x-www-form-urlencoded', host: 'localhost:3000' };

describe('OIDC tokens: refresh rotation, replayed codes, client credentials with resource indicators, introspection, revocation, errors', () => {
  let t: TestApp;
  let admin: Record<string, string>;
  let wiki: RegisteredClient;
  let rp: client.Configuration;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await adminHeaders(t);
    await registerResourceServer(t, admin, { accessTokenTtl: 300 });
    wiki = await registerClient(t, admin, { name: 'Wiki', redirectUris: [CALLBACK], firstParty: true, scopes: ['openid', 'profile', 'email', 'reports:read'], resources: [API_AUDIENCE] });
    rp = await relyingParty(t, wiki.clientId, wiki.clientSecret);
  });
  afterAll(() => t.close());

  async function signIn(user: CreatedUser, parameters: Record<string, string> = {}) {
    const jar = new CookieJar();
    await cookieSignIn(t, jar, user);
    const request = await authorizationRequest(rp, CALLBACK, parameters);
    const landing = await follow(t, jar, request.url);
    if (landing.kind !== 'callback') throw new Error(`expected the callback, got ${landing.kind}`);
    return { jar, request, callback: landing.url };
  }

  const introspect = (token: string, auth = basicAuth(wiki.clientId, wiki.clientSecret)) =>
    t.app.inject({ method: 'POST', url: '/oidc/token/introspection', headers: { ...form, ...auth }, payload: new URLSearchParams({ token }).toString() });

  describe('refresh tokens (override 2 of 3: they rotate for every client)', () => {
    it('rotate: the new one works, the used one is invalid_grant', async () => {
      const { request, callback } = await signIn(await createUser(t));
      const first = await exchange(rp, request, callback);
      const second = await client.refreshTokenGrant(rp, first.refresh_token!);
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect(second.claims()?.amr).toEqual(['pwd']);
      await expect(client.refreshTokenGrant(rp, first.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    });

    it.each([
      ['disabled', `UPDATE users SET status = 'disabled' WHERE id = ?`],
      ['deleted', `UPDATE users SET deleted_at = now() WHERE id = ?`],
    ])('are refused once the user is %s', async (_state, sql) => {
      const user = await createUser(t);
      const { request, callback } = await signIn(user);
      const tokens = await exchange(rp, request, callback);
      await em(t).execute(sql, [user.id]);
      t.app.get(PrincipalCache).invalidate(user.id);
      await expect(client.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      await expect(client.fetchUserInfo(rp, tokens.access_token, user.id)).rejects.toBeDefined();
    });

    it('are refused once the grant is revoked (revoking the refresh token ends its grant)', async () => {
      const { request, callback } = await signIn(await createUser(t));
      const tokens = await exchange(rp, request, callback);
      await client.tokenRevocation(rp, tokens.refresh_token!);
      await expect(client.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      expect((await introspect(tokens.access_token)).json()).toEqual({ active: false });
    });

    it('end with the Bastion session they were given in (an admin or /account ending it)', async () => {
      const user = await createUser(t);
      const { request, callback } = await signIn(user);
      const tokens = await exchange(rp, request, callback);
      const [session] = await em(t).execute(`SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL`, [user.id]);
      const ended = await t.app.inject({ method: 'DELETE', url: `/api/v1/users/${user.id}/sessions/${session.id}`, headers: admin });
      expect(ended.statusCode).toBe(204);
      await expect(client.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      expect((await introspect(tokens.access_token)).json()).toEqual({ active: false });
    });
  });

  it('a replayed authorization code is invalid_grant and revokes what the first exchange issued', async () => {
    const { request, callback } = await signIn(await createUser(t));
    const tokens = await exchange(rp, request, callback);
    expect((await introspect(tokens.access_token)).json().active).toBe(true);
    await expect(exchange(rp, request, callback)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await introspect(tokens.access_token)).json()).toEqual({ active: false });
    await expect(client.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('an authorization request with a resource gives a JWT access token (at+jwt) for that API only', async () => {
    const { request, callback } = await signIn(await createUser(t), { resource: API_AUDIENCE, scope: 'openid reports:read' });
    const tokens = await exchange(rp, request, callback);
    expect(decodeProtectedHeader(tokens.access_token).typ).toBe('at+jwt');
    const jwks = (await t.app.inject({ method: 'GET', url: '/oidc/jwks' })).json();
    const { payload } = await jwtVerify(tokens.access_token, createLocalJWKSet(jwks), { issuer: ISSUER, audience: API_AUDIENCE, typ: 'at+jwt' });
    expect(payload).toMatchObject({ aud: API_AUDIENCE, scope: 'reports:read', client_id: wiki.clientId });
  });

  describe('client_credentials with resource indicators', () => {
    let service: RegisteredClient;
    let serviceRp: client.Configuration;
    beforeAll(async () => {
      service = await registerClient(t, admin, { name: 'Batch', grantTypes: ['client_credentials'], scopes: ['reports:read'], resources: [API_AUDIENCE] });
      serviceRp = await relyingParty(t, service.clientId, service.clientSecret);
    });

    it('a JWT (typ at+jwt) whose aud is that API alone, scopes limited to what both allow, short-lived; audited', async () => {
      const tokens = await client.clientCredentialsGrant(serviceRp, { resource: API_AUDIENCE, scope: 'reports:read reports:write' });
      const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
      const { payload, protectedHeader } = await jwtVerify(tokens.access_token, createLocalJWKSet(jwks), { issuer: ISSUER, audience: API_AUDIENCE, typ: 'at+jwt' });
      expect(protectedHeader).toMatchObject({ typ: 'at+jwt', alg: 'RS256' });
      expect(payload.aud).toBe(API_AUDIENCE);
      expect(payload.scope).toBe('reports:read');
      expect(payload.client_id).toBe(service.clientId);
      expect(payload.exp! - payload.iat!).toBe(300);
      expect(tokens.expires_in).toBe(300);
      const audit = await em(t).execute(`SELECT details FROM audit_events WHERE type = 'oidc.token.issued' AND target_id = ?`, [service.clientId]);
      expect(audit[0].details).toEqual({ grantType: 'client_credentials' });
    });

    it('is not a Bastion API token: the API refuses it', async () => {
      const tokens = await client.clientCredentialsGrant(serviceRp, { resource: API_AUDIENCE, scope: 'reports:read' });
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: bearer(tokens.access_token) })).statusCode).toBe(401);
    });

    it('a resource the client may not use is invalid_target (400), never a 500', async () => {
      const res = await clientCredentials(t, service.clientId, service.clientSecret, { resource: 'https://other.example.test' });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('invalid_target');
    });

    it('client_secret_post works too; a wrong secret is 401 invalid_client; an unknown client too', async () => {
      const post = await t.app.inject({ method: 'POST', url: '/oidc/token', headers: form, payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: service.clientId, client_secret: service.clientSecret, resource: API_AUDIENCE }).toString() });
      expect(post.statusCode).toBe(200);
      for (const [id, secret] of [[service.clientId, 'wrong'], ['no-such-client', 'x']]) {
        const res = await clientCredentials(t, id, secret, { resource: API_AUDIENCE });
        expect(res.statusCode).toBe(401);
        expect(res.json().error).toBe('invalid_client');
      }
    });

    it('a grant type the client does not have is 400 invalid_request (oidc-provider\'s answer); an unknown one unsupported_grant_type', async () => {
      const res = await clientCredentials(t, wiki.clientId, wiki.clientSecret, { resource: API_AUDIENCE });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'requested grant type is not allowed for this client' });
      const password = await t.app.inject({ method: 'POST', url: '/oidc/token', headers: { ...form, ...basicAuth(service.clientId, service.clientSecret) }, payload: 'grant_type=password&username=a&password=b' });
      expect(password.statusCode).toBe(400);
      expect(password.json().error).toBe('unsupported_grant_type');
    });
  });

  describe('introspection (RFC 7662) and revocation (RFC 7009): authenticated clients only', () => {
    it('introspection answers for an opaque access token; without client authentication it is 401 invalid_client', async () => {
      const user = await createUser(t);
      const { request, callback } = await signIn(user);
      const tokens = await exchange(rp, request, callback);
      const info = await client.tokenIntrospection(rp, tokens.access_token);
      expect(info).toMatchObject({ active: true, sub: user.id, client_id: wiki.clientId, iss: ISSUER });
      const anonymous = await t.app.inject({ method: 'POST', url: '/oidc/token/introspection', headers: form, payload: `token=${tokens.access_token}` });
      expect(anonymous.statusCode).toBe(400);
      expect(anonymous.json().error).toMatch(/invalid_request|invalid_client/);
      const revoke = await t.app.inject({ method: 'POST', url: '/oidc/token/revocation', headers: form, payload: `token=${tokens.access_token}` });
      expect(revoke.json().error).toMatch(/invalid_request|invalid_client/);
      await client.tokenRevocation(rp, tokens.access_token);
      expect((await client.tokenIntrospection(rp, tokens.access_token)).active).toBe(false);
    });
  });

  describe('authorization errors', () => {
    const authorize = (query: Record<string, string>) => t.app.inject({ method: 'GET', url: `/oidc/auth?${new URLSearchParams(query).toString()}`, headers: { host: 'localhost:3000' } });
    const pkce = { code_challenge: 'E9Melhoa2OwvFrEMTJguCQaoWzPa6HhqKj9LB_Ze3gM', code_challenge_method: 'S256' };

    it.each([
      ['an unknown client', { client_id: 'nobody', redirect_uri: CALLBACK }],
      ['a wrong redirect_uri', { redirect_uri: 'https://evil.example.test/cb' }],
      ['a redirect_uri that only starts like the registered one', { redirect_uri: `${CALLBACK}/../steal` }],
    ])('%s is a 400 error page, never a redirect, with the usual security headers', async (_case, query) => {
      const res = await authorize({ client_id: wiki.clientId, response_type: 'code', scope: 'openid', state: 's', ...pkce, ...query });
      expect(res.statusCode).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toMatch(/invalid_client|invalid_redirect_uri/);
      expect(res.body).not.toMatch(/<script|at \w+ \(|\.js:\d+/);
      expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
      expect(res.headers['x-request-id']).toBeDefined();
    });

    it.each([
      ['missing PKCE', { scope: 'openid' }, 'invalid_request'],
      ['PKCE plain', { scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' }, 'invalid_request'],
      ['a scope the client may not have', { scope: 'openid roles', ...pkce }, 'invalid_scope'],
      ['a resource the client may not use', { scope: 'openid', resource: 'https://other.example.test', ...pkce }, 'invalid_target'],
      ['an unsupported response type', { scope: 'openid', response_type: 'token', ...pkce }, 'unsupported_response_type'],
    ])('%s: the standard error, redirected to the registered redirect_uri with state', async (_case, query, error) => {
      const res = await authorize({ client_id: wiki.clientId, response_type: 'code', redirect_uri: CALLBACK, state: 'st', ...query });
      expect(res.statusCode).toBe(303);
      const location = new URL(res.headers.location as string);
      expect(`${location.origin}${location.pathname}`).toBe(CALLBACK);
      // response_type=token would answer in the fragment (its default response mode).
      const answer = location.hash ? new URLSearchParams(location.hash.slice(1)) : location.searchParams;
      expect(answer.get('error')).toBe(error);
      expect(answer.get('state')).toBe('st');
    });
  });
});
