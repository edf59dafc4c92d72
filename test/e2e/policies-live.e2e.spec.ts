import { ChangeFeed } from '../../src/database/change-feed/change-feed.service';
import { bearer, createUser, type CreatedUser, loginTokens } from '../support/auth-helpers';
import { createTestApp, type TestApp } from '../support/test-app';

const POLL_MS = 50;
const SLA_MS = 1000;
const GIVE_UP_MS = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DEPT = '${user.departmentId}';

/**
 * API.md: "A change to a role or to a user's roles takes effect on every instance within 1 s, no
 * restart." Two instances, A and B, share one database; a change made through A is watched on B.
 */
describe('Policy changes reach every instance within 1 s (ASVS 8.3.2; API.md "Policies")', () => {
  let a: TestApp;
  let b: TestApp;
  let adminToken: string;
  let dept: string;
  let viewer: CreatedUser;
  let viewerToken: string;

  const onA = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    a.app.inject({ method, url, headers: bearer(adminToken), ...(payload === undefined ? {} : { payload: payload as string }) });
  const roleId = async (name: string): Promise<string> => (await onA('GET', '/api/v1/roles')).json().find((r: { name: string }) => r.name === name).id;

  /**
   * Polls `url` on B as `token` every 50 ms until it answers `status`; returns the milliseconds
   * since `since` (Infinity when it still had not after 3 s).
   */
  async function answersOnB(url: string, token: string, status: number, since: number): Promise<number> {
    for (;;) {
      const res = await b.app.inject({ method: 'GET', url, headers: bearer(token) });
      if (res.statusCode === status) return Date.now() - since;
      if (Date.now() - since > GIVE_UP_MS) return Infinity;
      await sleep(POLL_MS);
    }
  }

  beforeAll(async () => {
    a = await createTestApp();
    b = await createTestApp({ database: a.database });
    await Promise.all([a.app.get(ChangeFeed).whenLive(), b.app.get(ChangeFeed).whenLive()]);
    const admin = await createUser(a, { roles: ['admin'] });
    adminToken = (await loginTokens(a, admin)).accessToken;
    const res = await onA('POST', '/api/v1/departments', { name: 'Live' });
    expect(res.statusCode).toBe(201);
    dept = res.json().id;
    viewer = await createUser(a, { roles: ['viewer'], departmentId: dept });
    viewerToken = (await loginTokens(a, viewer)).accessToken;
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('8.3.2: PATCH viewer\'s permissions on A: B refuses within 1 s (allow → deny), then allows again within 1 s (deny → allow)', async () => {
    const url = `/api/v1/departments/${dept}`;
    // Warm B's caches: the decision must change although B has already compiled the old policy.
    for (let i = 0; i < 3; i++) expect((await b.app.inject({ method: 'GET', url, headers: bearer(viewerToken) })).statusCode).toBe(200);
    const viewerRole = await roleId('viewer');
    const original = (await onA('GET', `/api/v1/roles/${viewerRole}`)).json().permissions;

    const narrowed = original.filter((p: { subject: string }) => p.subject !== 'Department');
    expect(narrowed.length).toBe(original.length - 1);
    expect((await onA('PATCH', `/api/v1/roles/${viewerRole}`, { permissions: narrowed })).statusCode).toBe(200);
    const deniedAfter = await answersOnB(url, viewerToken, 403, Date.now());
    expect(deniedAfter).toBeLessThan(SLA_MS);

    expect((await onA('PATCH', `/api/v1/roles/${viewerRole}`, { permissions: original })).statusCode).toBe(200);
    const allowedAfter = await answersOnB(url, viewerToken, 200, Date.now());
    expect(allowedAfter).toBeLessThan(SLA_MS);
    // B's /policies/me agrees with what it enforces.
    const rules = (await b.app.inject({ method: 'GET', url: '/api/v1/policies/me', headers: bearer(viewerToken) })).json().rules;
    expect(rules).toContainEqual({ action: 'read', subject: 'Department', conditions: { id: dept } });
  });

  it('8.3.2: PATCH a user\'s roles on A: B lets them in within 1 s (deny → allow) and shuts them out within 1 s (allow → deny), without re-login', async () => {
    const url = '/api/v1/users';
    expect((await b.app.inject({ method: 'GET', url, headers: bearer(viewerToken) })).statusCode).toBe(403);

    expect((await onA('PATCH', `/api/v1/users/${viewer.id}`, { roles: ['manager'] })).statusCode).toBe(200);
    expect(await answersOnB(url, viewerToken, 200, Date.now())).toBeLessThan(SLA_MS);
    const who = await b.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: bearer(viewerToken) });
    expect(who.json()).toMatchObject({ roles: ['manager'], departmentId: dept });

    expect((await onA('PATCH', `/api/v1/users/${viewer.id}`, { roles: ['viewer'] })).statusCode).toBe(200);
    expect(await answersOnB(url, viewerToken, 403, Date.now())).toBeLessThan(SLA_MS);
  });

  it('8.3.2: creating and deleting a custom role on A grants and withdraws its permissions on B within 1 s', async () => {
    const url = '/api/v1/audit-events';
    const user = await createUser(a, { roles: ['viewer'], departmentId: dept });
    const token = (await loginTokens(a, user)).accessToken;
    expect((await b.app.inject({ method: 'GET', url, headers: bearer(token) })).statusCode).toBe(403);

    const created = await onA('POST', '/api/v1/roles', { name: 'live-auditor', permissions: [{ action: 'read', subject: 'AuditEvent' }] });
    expect(created.statusCode).toBe(201);
    expect((await onA('PATCH', `/api/v1/users/${user.id}`, { roles: ['viewer', 'live-auditor'] })).statusCode).toBe(200);
    expect(await answersOnB(url, token, 200, Date.now())).toBeLessThan(SLA_MS);

    expect((await onA('DELETE', `/api/v1/roles/${created.json().id}`)).statusCode).toBe(204);
    expect(await answersOnB(url, token, 403, Date.now())).toBeLessThan(SLA_MS);
  });

  it('8.3.2: a record-level condition changed on A (department-bound → any department) is applied by B within 1 s', async () => {
    const other = await onA('POST', '/api/v1/departments', { name: 'Live elsewhere' });
    const url = `/api/v1/departments/${other.json().id}`;
    const created = await onA('POST', '/api/v1/roles', { name: 'dept-reader', permissions: [{ action: 'read', subject: 'Department', conditions: { id: DEPT } }] });
    const user = await createUser(a, { roles: ['dept-reader'], departmentId: dept });
    const token = (await loginTokens(a, user)).accessToken;
    // Readable type, unreadable record: 404.
    expect((await b.app.inject({ method: 'GET', url, headers: bearer(token) })).statusCode).toBe(404);

    expect((await onA('PATCH', `/api/v1/roles/${created.json().id}`, { permissions: [{ action: 'read', subject: 'Department' }] })).statusCode).toBe(200);
    expect(await answersOnB(url, token, 200, Date.now())).toBeLessThan(SLA_MS);
    expect((await onA('PATCH', `/api/v1/roles/${created.json().id}`, { permissions: [{ action: 'read', subject: 'Department', conditions: { id: DEPT } }] })).statusCode).toBe(200);
    expect(await answersOnB(url, token, 404, Date.now())).toBeLessThan(SLA_MS);
  });
});
