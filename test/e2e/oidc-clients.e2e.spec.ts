import { bearer, createUser, em, loginTokens } from '../support/auth-helpers';
import { API_AUDIENCE, adminHeaders, clientCredentials, registerClient, registerResourceServer } from '../support/oidc-helpers';
import { expectProblem, expectValidation } from '../support/problem-assertions';
import { createTestApp, type TestApp } from '../support/test-app';

describe('Clients and resource servers are data: /api/v1/clients and /api/v1/resource-servers', () => {
  let t: TestApp;
  let admin: Record<string, string>;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await adminHeaders(t);
    await registerResourceServer(t, admin);
  });
  afterAll(() => t.close());

  const web = { redirectUris: ['https://app.example.test/callback'], postLogoutRedirectUris: ['https://app.example.test/'] };

  it('401 without credentials, 403 for a viewer (only the built-in admin manages clients)', async () => {
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/clients' }), 401);
    const viewer = bearer((await loginTokens(t, await createUser(t))).accessToken);
    expectProblem(await t.app.inject({ method: 'GET', url: '/api/v1/clients', headers: viewer }), 403);
    expectProblem(await t.app.inject({ method: 'POST', url: '/api/v1/clients', headers: viewer, payload: { name: 'x', ...web } }), 403);
    expectProblem(await t.app.inject({ method: 'POST', url: '/api/v1/resource-servers', headers: viewer, payload: { name: 'x', audience: 'https://x.test' } }), 403);
  });

  it('201: clientId and, once, clientSecret; the database holds only an Argon2id hash; GET never shows it; audited', async () => {
    const created = await registerClient(t, admin, { name: 'Wiki', ...web });
    expect(created).toMatchObject({ name: 'Wiki', grantTypes: ['authorization_code', 'refresh_token'], scopes: ['openid', 'profile', 'email'], firstParty: false, resources: [] });
    expect(created.clientId).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(created.clientSecret.length).toBeGreaterThanOrEqual(43);
    const [row] = await em(t).execute('SELECT secret_hash FROM oidc_clients WHERE id = ?', [created.id]);
    expect(row.secret_hash).toMatch(/^\$argon2id\$/);
    expect(row.secret_hash).not.toContain(created.clientSecret);
    const got = await t.app.inject({ method: 'GET', url: `/api/v1/clients/${created.id}`, headers: admin });
    expect(got.statusCode).toBe(200);
    expect(got.body).not.toMatch(/secret/i);
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/clients', headers: admin });
    expect(list.json().items.map((c: { id: string }) => c.id)).toContain(created.id);
    const [audit] = await em(t).execute(`SELECT details FROM audit_events WHERE type = 'client.created' AND target_id = ?`, [created.id]);
    expect(audit.details).toMatchObject({ clientId: created.clientId, name: 'Wiki' });
    expect(JSON.stringify(audit.details)).not.toContain(created.clientSecret);
  });

  it.each([
    ['redirectUris', { redirectUris: ['http://app.example.test/cb'] }],
    ['redirectUris', { redirectUris: ['https://app.example.test/cb#frag'] }],
    ['redirectUris', { redirectUris: ['/relative'] }],
    ['redirectUris', { redirectUris: [] }],
    ['postLogoutRedirectUris', { ...web, postLogoutRedirectUris: ['javascript:alert(1)'] }],
    ['grantTypes', { ...web, grantTypes: ['password'] }],
    ['grantTypes', { grantTypes: ['refresh_token', 'client_credentials'] }],
    ['scopes', { ...web, scopes: ['has space'] }],
    ['resources', { ...web, resources: ['https://unregistered.example.test'] }],
    ['resources', { ...web, resources: ['not a uri'] }],
    ['backchannelLogoutUri', { ...web, backchannelLogoutUri: 'ftp://x.test/logout' }],
    ['accessTokenTtl', { ...web, accessTokenTtl: 5 }],
    ['name', { ...web, name: '' }],
  ])('400 problem+json naming the field %s, and nothing is stored', async (field, body) => {
    const before = await em(t).execute('SELECT count(*)::int AS n FROM oidc_clients');
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/clients', headers: admin, payload: { name: 'Bad', ...body } });
    expectValidation(res, field);
    const after = await em(t).execute('SELECT count(*)::int AS n FROM oidc_clients');
    expect(after[0].n).toBe(before[0].n);
  });

  it('http redirect URIs are accepted on loopback only (127.0.0.1, [::1], localhost)', async () => {
    const created = await registerClient(t, admin, { redirectUris: ['http://127.0.0.1:8080/cb', 'http://localhost/cb', 'http://[::1]:9/cb'] });
    expect(created.redirectUris).toHaveLength(3);
  });

  it('PATCH changes fields and is audited; an invalid combination is 400 and changes nothing', async () => {
    const created = await registerClient(t, admin, web);
    const res = await t.app.inject({ method: 'PATCH', url: `/api/v1/clients/${created.id}`, headers: admin, payload: { name: 'Renamed', firstParty: true, accessTokenTtl: 300 } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'Renamed', firstParty: true, accessTokenTtl: 300 });
    expectValidation(await t.app.inject({ method: 'PATCH', url: `/api/v1/clients/${created.id}`, headers: admin, payload: { redirectUris: [] } }), 'redirectUris');
    const again = await t.app.inject({ method: 'GET', url: `/api/v1/clients/${created.id}`, headers: admin });
    expect(again.json().redirectUris).toEqual(web.redirectUris);
    const [audit] = await em(t).execute(`SELECT details FROM audit_events WHERE type = 'client.updated' AND target_id = ?`, [created.id]);
    expect(audit.details.fields.sort()).toEqual(['accessTokenTtl', 'firstParty', 'name']);
  });

  it('POST /:id/secret rotates: the new secret works at the token endpoint, the old one is invalid_client; audited without the secret', async () => {
    const created = await registerClient(t, admin, { grantTypes: ['client_credentials'], resources: [API_AUDIENCE], scopes: ['reports:read'] });
    expect((await clientCredentials(t, created.clientId, created.clientSecret, { resource: API_AUDIENCE })).statusCode).toBe(200);
    const rotated = await t.app.inject({ method: 'POST', url: `/api/v1/clients/${created.id}/secret`, headers: admin });
    expect(rotated.statusCode).toBe(200);
    const { clientSecret } = rotated.json();
    expect(clientSecret).not.toBe(created.clientSecret);
    const old = await clientCredentials(t, created.clientId, created.clientSecret, { resource: API_AUDIENCE });
    expect(old.statusCode).toBe(401);
    expect(old.json().error).toBe('invalid_client');
    expect((await clientCredentials(t, created.clientId, clientSecret, { resource: API_AUDIENCE })).statusCode).toBe(200);
    const [audit] = await em(t).execute(`SELECT details FROM audit_events WHERE type = 'client.secret_rotated' AND target_id = ?`, [created.id]);
    expect(JSON.stringify(audit.details)).not.toContain(clientSecret);
  });

  it('DELETE removes the client (204, then 404) and it can no longer get tokens; audited', async () => {
    const created = await registerClient(t, admin, { grantTypes: ['client_credentials'], resources: [API_AUDIENCE], scopes: ['reports:read'] });
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/clients/${created.id}`, headers: admin })).statusCode).toBe(204);
    expectProblem(await t.app.inject({ method: 'GET', url: `/api/v1/clients/${created.id}`, headers: admin }), 404);
    expect((await clientCredentials(t, created.clientId, created.clientSecret, { resource: API_AUDIENCE })).json().error).toBe('invalid_client');
    expect(await em(t).execute(`SELECT 1 FROM audit_events WHERE type = 'client.deleted' AND target_id = ?`, [created.id])).toHaveLength(1);
  });

  describe('resource servers', () => {
    it('create, read, rename; a duplicate audience is 409; a relative audience is 400 naming the field', async () => {
      const created = await registerResourceServer(t, admin, { audience: 'urn:bastion:test:inventory', scopes: ['inventory:read'] });
      expectProblem(await t.app.inject({ method: 'POST', url: '/api/v1/resource-servers', headers: admin, payload: { name: 'Dup', audience: 'urn:bastion:test:inventory' } }), 409);
      expectValidation(await t.app.inject({ method: 'POST', url: '/api/v1/resource-servers', headers: admin, payload: { name: 'Rel', audience: '/api' } }), 'audience');
      expectValidation(await t.app.inject({ method: 'PATCH', url: `/api/v1/resource-servers/${created.id}`, headers: admin, payload: { audience: 'urn:other' } }), 'audience');
      const renamed = await t.app.inject({ method: 'PATCH', url: `/api/v1/resource-servers/${created.id}`, headers: admin, payload: { name: 'Inventory', accessTokenTtl: 120 } });
      expect(renamed.json()).toMatchObject({ name: 'Inventory', audience: 'urn:bastion:test:inventory', accessTokenTtl: 120 });
      expect(await em(t).execute(`SELECT 1 FROM audit_events WHERE type = 'resource_server.updated' AND target_id = ?`, [created.id])).toHaveLength(1);
    });

    it('DELETE is 409 while a client lists the audience, 204 once none does', async () => {
      const server = await registerResourceServer(t, admin, { audience: 'https://billing.example.test', scopes: [] });
      const client = await registerClient(t, admin, { ...web, resources: ['https://billing.example.test'] });
      expectProblem(await t.app.inject({ method: 'DELETE', url: `/api/v1/resource-servers/${server.id}`, headers: admin }), 409);
      await t.app.inject({ method: 'PATCH', url: `/api/v1/clients/${client.id}`, headers: admin, payload: { resources: [] } });
      expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/resource-servers/${server.id}`, headers: admin })).statusCode).toBe(204);
    });
  });
});
