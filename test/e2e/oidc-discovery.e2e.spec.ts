import { createTestApp, type TestApp } from '../support/test-app';

describe('OIDC provider: mounted at ${APP_URL}/oidc with discovery and the API key set', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('discovery names the issuer ${APP_URL}/oidc, code flow with PKCE S256, and the API signing algorithm', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/oidc/.well-known/openid-configuration', headers: { host: 'localhost:3000' } });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.issuer).toBe('http://localhost:3000/oidc');
    expect(doc.authorization_endpoint).toBe('http://localhost:3000/oidc/auth');
    expect(doc.token_endpoint).toBe('http://localhost:3000/oidc/token');
    expect(doc.jwks_uri).toBe('http://localhost:3000/oidc/jwks');
    expect(doc.response_types_supported).toEqual(['code']);
    expect(doc.code_challenge_methods_supported).toEqual(['S256']);
    expect(doc.token_endpoint_auth_methods_supported.sort()).toEqual(['client_secret_basic', 'client_secret_post']);
    expect(doc.id_token_signing_alg_values_supported).toEqual(['RS256']);
    expect(doc.acr_values_supported).toEqual(['urn:bastion:acr:sfa', 'urn:bastion:acr:mfa']);
    expect(doc.scopes_supported).toEqual(expect.arrayContaining(['openid', 'offline_access', 'email', 'profile', 'roles']));
    expect(doc.introspection_endpoint).toBeDefined();
    expect(doc.revocation_endpoint).toBeDefined();
    expect(doc.end_session_endpoint).toBeDefined();
    expect(doc.backchannel_logout_supported).toBe(true);
  });

  it('one JWKS: /oidc/jwks is the document of /.well-known/jwks.json (the API tokens keep verifying as before)', async () => {
    const oidc = await t.app.inject({ method: 'GET', url: '/oidc/jwks' });
    const api = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(oidc.statusCode).toBe(200);
    expect(oidc.json()).toEqual(api.json());
    expect(oidc.json().keys[0]).not.toHaveProperty('d');
  });

  it('/oidc responses carry the security headers and X-Request-Id of every other route', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/oidc/.well-known/openid-configuration' });
    const other = await t.app.inject({ method: 'GET', url: '/health/live' });
    for (const header of ['content-security-policy', 'strict-transport-security', 'x-content-type-options', 'x-frame-options', 'referrer-policy']) {
      expect(res.headers[header]).toBe(other.headers[header]);
    }
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
