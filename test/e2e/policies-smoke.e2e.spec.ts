import { bearer, createUser, em, loginTokens } from '../support/auth-helpers';
import { createTestApp, type TestApp } from '../support/test-app';

describe('policies smoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('admin creates a department and users; editor writes a draft; viewer only sees published', async () => {
    const admin = await createUser(t, { roles: ['admin'] });
    const adminTokens = await loginTokens(t, admin);
    const dept = await t.app.inject({ method: 'POST', url: '/api/v1/departments', headers: bearer(adminTokens.accessToken), payload: { name: 'Finance' } });
    expect(dept.statusCode).toBe(201);
    const departmentId = dept.json().id;
    const editor = await createUser(t, { roles: ['editor'], departmentId });
    const viewer = await createUser(t, { roles: ['viewer'], departmentId });
    const editorTokens = await loginTokens(t, editor);
    const viewerTokens = await loginTokens(t, viewer);
    const doc = await t.app.inject({ method: 'POST', url: '/api/v1/documents', headers: bearer(editorTokens.accessToken), payload: { title: 'Budget', body: 'numbers' } });
    expect(doc.statusCode).toBe(201);
    expect(doc.json()).toMatchObject({ status: 'draft', classification: 'internal', departmentId, ownerId: editor.id, version: 1 });
    const hidden = await t.app.inject({ method: 'GET', url: `/api/v1/documents/${doc.json().id}`, headers: bearer(viewerTokens.accessToken) });
    expect(hidden.statusCode).toBe(404);
    const listBefore = await t.app.inject({ method: 'GET', url: '/api/v1/documents', headers: bearer(viewerTokens.accessToken) });
    expect(listBefore.json()).toMatchObject({ items: [], total: 0 });
    const publish = await t.app.inject({ method: 'POST', url: `/api/v1/documents/${doc.json().id}/publish`, headers: bearer(editorTokens.accessToken) });
    expect(publish.statusCode).toBe(403);
    const adminPublish = await t.app.inject({ method: 'POST', url: `/api/v1/documents/${doc.json().id}/publish`, headers: bearer(adminTokens.accessToken) });
    expect(adminPublish.statusCode).toBe(200);
    const listAfter = await t.app.inject({ method: 'GET', url: '/api/v1/documents', headers: bearer(viewerTokens.accessToken) });
    expect(listAfter.json()).toMatchObject({ total: 1 });
    const confidential = await t.app.inject({ method: 'PATCH', url: `/api/v1/documents/${doc.json().id}`, headers: bearer(editorTokens.accessToken), payload: { classification: 'confidential', version: 2 } });
    expect(confidential.statusCode).toBe(403);
    const roles = await t.app.inject({ method: 'GET', url: '/api/v1/roles', headers: bearer(adminTokens.accessToken) });
    expect(roles.json().map((r: { name: string }) => r.name)).toEqual(['admin', 'editor', 'manager', 'viewer']);
    const users = await t.app.inject({ method: 'GET', url: '/api/v1/users?limit=5', headers: bearer(adminTokens.accessToken) });
    expect(users.json().total).toBe(3);
    const denied = await t.app.inject({ method: 'GET', url: '/api/v1/users', headers: bearer(viewerTokens.accessToken) });
    expect(denied.statusCode).toBe(403);
    const audit = await t.app.inject({ method: 'GET', url: '/api/v1/audit-events?type=access.denied', headers: bearer(adminTokens.accessToken) });
    expect(audit.json().total).toBeGreaterThan(0);
    const rows = await em(t).execute('SELECT count(*)::int AS n FROM documents');
    expect(rows[0].n).toBe(1);
  });
});
