import { adminHeaders, basicAuth, registerClient } from '../support/oidc-helpers';
import { createTestApp, type TestApp } from '../support/test-app';

const form = { 'content-type': 'application/x-www-form-urlencoded', host: 'localhost:3000' };

describe('OIDC endpoints under hostile input: a 4xx answer, never a 500', () => {
  let t: TestApp;
  let auth: Record<string, string>;
  let clientId: string;
  beforeAll(async () => {
    t = await createTestApp();
    const client = await registerClient(t, await adminHeaders(t), { redirectUris: ['https://app.example.test/cb'] });
    clientId = client.clientId;
    auth = basicAuth(client.clientId, client.clientSecret);
  });
  afterAll(() => t.close());

  it.each<[string, { method: 'GET' | 'POST'; url: string; headers?: Record<string, string>; payload?: string; client?: boolean }]>([
    ['a JSON body on /token', { method: 'POST', url: '/oidc/token', client: true, headers: { 'content-type': 'application/json' }, payload: '{"grant_type":"client_credentials"}' }],
    ['a malformed form body', { method: 'POST', url: '/oidc/token', client: true, headers: form, payload: 'grant_type=%E0%A4%A&code=%' }],
    ['a 2 MB form body', { method: 'POST', url: '/oidc/token', client: true, headers: form, payload: `grant_type=authorization_code&code=${'a'.repeat(2 * 1024 * 1024)}` }],
    ['a malformed Basic header', { method: 'POST', url: '/oidc/token', headers: { authorization: 'Basic %%%', ...form }, payload: 'grant_type=client_credentials' }],
    ['a 10 kB client_id', { method: 'POST', url: '/oidc/token', headers: form, payload: `grant_type=client_credentials&client_id=${'x'.repeat(10_000)}&client_secret=y` }],
    ['a NUL byte in client_id', { method: 'POST', url: '/oidc/token', headers: form, payload: 'grant_type=client_credentials&client_id=a%00b&client_secret=y' }],
    ['a NUL byte in an authorization request client_id', { method: 'GET', url: '/oidc/auth?client_id=a%00b&response_type=code&scope=openid' }],
    ['a NUL byte in a refresh token', { method: 'POST', url: '/oidc/token', client: true, headers: form, payload: 'grant_type=refresh_token&refresh_token=a%00b' }],
    ['duplicate parameters', { method: 'POST', url: '/oidc/token', client: true, headers: form, payload: 'grant_type=client_credentials&grant_type=refresh_token' }],
    ['a code that is not ours', { method: 'POST', url: '/oidc/token', client: true, headers: form, payload: 'grant_type=authorization_code&code=nope&redirect_uri=https://app.example.test/cb&code_verifier=' + 'v'.repeat(43) }],
    ['a refresh token that is not ours', { method: 'POST', url: '/oidc/token', client: true, headers: form, payload: 'grant_type=refresh_token&refresh_token=nope' }],
    ['an authorization request without parameters', { method: 'GET', url: '/oidc/auth' }],
    ['an interaction that does not exist', { method: 'GET', url: '/oidc/interaction/does-not-exist?continue=1' }],
    ['a consent post without an interaction cookie', { method: 'POST', url: '/oidc/interaction/x/confirm', headers: form, payload: '' }],
    ['userinfo with a garbage token', { method: 'GET', url: '/oidc/me', headers: { authorization: 'Bearer garbage' } }],
    ['an unknown /oidc route', { method: 'GET', url: '/oidc/nothing-here' }],
    ['logout with a garbage id_token_hint', { method: 'GET', url: '/oidc/session/end?id_token_hint=a.b.c' }],
  ])('%s', async (_case, request) => {
    // The table is built before beforeAll: CLIENT stands for the registered client's id, `client`
    // for its Basic credentials.
    const { client, ...rest } = request;
    const res = await t.app.inject({ ...rest, url: rest.url.replace('CLIENT', clientId), headers: { host: 'localhost:3000', ...rest.headers, ...(client ? auth : {}) } });
    expect(`${res.statusCode} ${res.body.slice(0, 200)}`).toMatch(/^4\d\d /);
    expect(res.body).not.toMatch(/at \w+ \(|\.js:\d+|\.ts:\d+|SELECT |stack/);
    expect(res.headers['x-request-id']).toBeDefined();
  });

  it('introspection of garbage by an authenticated client: 200 {active: false} (RFC 7662)', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/oidc/token/introspection', headers: { ...form, ...auth }, payload: 'token=%00%01' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ active: false });
  });

  it('an authorization request with a 5 kB state of odd characters and no PKCE: the error goes back to the registered redirect URI, the state intact', async () => {
    const state = '"<'.repeat(800);
    const res = await t.app.inject({ method: 'GET', url: `/oidc/auth?${new URLSearchParams({ client_id: clientId, response_type: 'code', scope: 'openid', state })}`, headers: { host: 'localhost:3000' } });
    expect(res.statusCode).toBe(303);
    const location = new URL(res.headers.location as string);
    expect(location.origin).toBe('https://app.example.test');
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('state')).toBe(state);
  });
});
