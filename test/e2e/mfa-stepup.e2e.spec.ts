import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { ChangeFeed } from '../../src/database/change-feed/change-feed.service';
import { bearer, createUser, type CreatedUser, em, login, loginTokens } from '../support/auth-helpers';
import { createTestApp, type TestApp } from '../support/test-app';
import { steadyStep, totp } from '../support/totp';
import { PROBLEM_JSON } from '../support/problem-assertions';

const MFA_REQUIRED = 'urn:bastion:problem:mfa-required';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Role and policy changes reach the in-memory caches through LISTEN/NOTIFY: API.md allows 1 s. */
async function eventually(probe: () => Promise<LightMyRequestResponse>, accept: (res: LightMyRequestResponse) => boolean): Promise<LightMyRequestResponse> {
  const deadline = Date.now() + 1500;
  for (;;) {
    const res = await probe();
    if (accept(res) || Date.now() > deadline) return res;
    await sleep(50);
  }
}

function expectMfaRequired(res: LightMyRequestResponse): void {
  expect(res.statusCode).toBe(403);
  expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  expect(res.json()).toMatchObject({ type: MFA_REQUIRED, status: 403, title: expect.any(String), detail: expect.any(String) });
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

describe('Step-up: roles with requireMfa (ASVS 6.3.3, 8.2.1, 8.3.2; API.md "Policies")', () => {
  let a: TestApp;
  let admin: CreatedUser;
  let adminToken: string;

  const call = (t: TestApp, method: Method, url: string, token: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: bearer(token), ...(payload === undefined ? {} : { payload: payload as string }) });
  const api = (method: Method, url: string, token: string, payload?: unknown) => call(a, method, url, token, payload);

  /** Enrols TOTP through the API with a password session (a new one unless given); returns the secret. */
  async function enrol(t: TestApp, user: CreatedUser, session?: string): Promise<string> {
    const accessToken = session ?? (await loginTokens(t, user)).accessToken;
    const setup = await call(t, 'POST', '/api/v1/auth/mfa/totp/setup', accessToken, { password: user.password });
    expect(setup.statusCode).toBe(200);
    await steadyStep();
    // The previous step (accepted for drift), leaving this step and the next for sign-ins.
    const enable = await call(t, 'POST', '/api/v1/auth/mfa/totp/enable', accessToken, { code: totp(setup.json().secret, -1) });
    expect(enable.statusCode).toBe(200);
    return setup.json().secret;
  }

  /** Password, then TOTP (`step` relative to now): the access token of a session with amr ["pwd","otp"]. */
  async function signInWithTotp(t: TestApp, user: CreatedUser, secret: string, step = 0): Promise<string> {
    const first = await login(t, user.email, user.password);
    expect(first.json()).toMatchObject({ mfaRequired: true });
    await steadyStep();
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/verify', payload: { mfaToken: first.json().mfaToken, code: totp(secret, step) } });
    expect(res.statusCode).toBe(200);
    expect(decodeJwt(res.json().accessToken).amr).toEqual(['pwd', 'otp']);
    return res.json().accessToken;
  }

  async function createRole(body: Record<string, unknown>): Promise<{ id: string; requireMfa: boolean }> {
    const res = await api('POST', '/api/v1/roles', adminToken, body);
    expect(res.statusCode).toBe(201);
    return res.json();
  }

  beforeAll(async () => {
    a = await createTestApp();
    admin = await createUser(a, { roles: ['admin'] });
    adminToken = (await loginTokens(a, admin)).accessToken;
  });
  afterAll(() => a?.close());

  it('6.3.3/8.2.1: a role `auditor` (read AuditEvent, requireMfa) gives a password-only session 403 mfa-required; after enrolling and signing in with TOTP → 200', async () => {
    const role = await createRole({ name: 'auditor', description: 'Reads the audit log', permissions: [{ action: 'read', subject: 'AuditEvent' }], requireMfa: true });
    expect(role).toMatchObject({ requireMfa: true });
    const user = await createUser(a);
    const patched = await api('PATCH', `/api/v1/users/${user.id}`, adminToken, { roles: ['viewer', 'auditor'] });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().roles).toEqual(['auditor', 'viewer']);

    const pwd = (await loginTokens(a, user)).accessToken;
    expect(decodeJwt(pwd).amr).toEqual(['pwd']);
    const who = await eventually(() => api('GET', '/api/v1/auth/whoami', pwd), (r) => r.json().roles?.includes('auditor'));
    expect(who.json().roles).toEqual(expect.arrayContaining(['auditor', 'viewer']));

    const refused = await api('GET', '/api/v1/audit-events', pwd);
    expectMfaRequired(refused);
    // The withheld role grants nothing: the caller's rules do not mention AuditEvent.
    const rules = (await api('GET', '/api/v1/policies/me', pwd)).json().rules as { subject: string }[];
    expect(rules.map((r) => r.subject)).not.toContain('AuditEvent');
    // The refusal is an audited access decision (16.3.2).
    const [denied] = await em(a).execute(`SELECT details FROM audit_events WHERE type = 'access.denied' AND actor_id = ? ORDER BY at DESC LIMIT 1`, [user.id]);
    expect(denied.details).toMatchObject({ action: 'read', subject: 'AuditEvent', reason: 'requires MFA' });
    // A caller without the role at all gets the ordinary 403, not an invitation to step up.
    const stranger = (await loginTokens(a, await createUser(a))).accessToken;
    const plain = await api('GET', '/api/v1/audit-events', stranger);
    expect(plain.statusCode).toBe(403);
    expect(plain.json().type).toBe('about:blank');

    const secret = await enrol(a, user, pwd);
    // Enrolling (in this very session, which therefore survives) does not upgrade a password-only session.
    expectMfaRequired(await api('GET', '/api/v1/audit-events', pwd));
    const mfa = await signInWithTotp(a, user, secret);
    const allowed = await api('GET', '/api/v1/audit-events?type=auth.mfa.enabled', mfa);
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json().items).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'auth.mfa.enabled', targetId: user.id })]));
    const mfaRules = (await api('GET', '/api/v1/policies/me', mfa)).json().rules as { subject: string }[];
    expect(mfaRules.map((r) => r.subject)).toContain('AuditEvent');

    // A refresh keeps the session's second factor, and so its permissions.
    const again = await login(a, user.email, user.password);
    const verified = await a.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/verify', payload: { mfaToken: again.json().mfaToken, code: totp(secret, 1) } });
    expect(verified.statusCode).toBe(200);
    const refreshed = await a.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: verified.json().refreshToken } });
    expect(refreshed.statusCode).toBe(200);
    expect((await api('GET', '/api/v1/audit-events', refreshed.json().accessToken)).statusCode).toBe(200);
  });

  it('8.2.2: lists simply omit what needs MFA, while a single record that would be readable with MFA is 403 mfa-required (not 404)', async () => {
    const dept = await api('POST', '/api/v1/departments', adminToken, { name: 'Vault department' });
    expect(dept.statusCode).toBe(201);
    const departmentId = dept.json().id;
    const doc = async (classification: string): Promise<string> => {
      const created = await api('POST', '/api/v1/documents', adminToken, { title: `${classification} report`, body: 'text', classification, departmentId });
      expect(created.statusCode).toBe(201);
      expect((await api('POST', `/api/v1/documents/${created.json().id}/publish`, adminToken)).statusCode).toBe(200);
      return created.json().id;
    };
    const open = await doc('public');
    const secretDoc = await doc('confidential');
    await createRole({ name: 'vault', permissions: [{ action: 'read', subject: 'Document' }], requireMfa: true });
    const user = await createUser(a, { roles: ['viewer', 'vault'], departmentId });
    const colleague = await createUser(a, { roles: ['viewer'], departmentId });

    const pwd = (await loginTokens(a, user)).accessToken;
    const list = await api('GET', '/api/v1/documents', pwd);
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((d: { id: string }) => d.id)).toEqual([open]);
    expect(list.json().total).toBe(1);
    expect((await api('GET', `/api/v1/documents/${open}`, pwd)).statusCode).toBe(200);
    expectMfaRequired(await api('GET', `/api/v1/documents/${secretDoc}`, pwd));
    // Without the role the same record simply does not exist for the caller.
    const colleagueToken = (await loginTokens(a, colleague)).accessToken;
    const hidden = await api('GET', `/api/v1/documents/${secretDoc}`, colleagueToken);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().type).toBe('about:blank');

    const mfa = await signInWithTotp(a, user, await enrol(a, user));
    const full = await api('GET', '/api/v1/documents', mfa);
    expect(full.json().items.map((d: { id: string }) => d.id).sort()).toEqual([open, secretDoc].sort());
    expect(full.json().total).toBe(2);
    const read = await api('GET', `/api/v1/documents/${secretDoc}`, mfa);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ id: secretDoc, classification: 'confidential' });
  });

  it('8.3.2/6.3.3: requireMfa set by PATCH applies at once to live sessions and survives a restart (second instance on the same database)', async () => {
    const role = await createRole({ name: 'reporting', permissions: [{ action: 'read', subject: 'AuditEvent' }] });
    expect(role.requireMfa).toBe(false);
    const user = await createUser(a, { roles: ['viewer', 'reporting'] });
    const pwdOnlyUser = await createUser(a, { roles: ['viewer', 'reporting'] });
    const secret = await enrol(a, user);
    const pwd = (await loginTokens(a, pwdOnlyUser)).accessToken;
    expect((await api('GET', '/api/v1/audit-events', pwd)).statusCode).toBe(200);

    const patched = await api('PATCH', `/api/v1/roles/${role.id}`, adminToken, { requireMfa: true });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ id: role.id, name: 'reporting', requireMfa: true });
    expectMfaRequired(await eventually(() => api('GET', '/api/v1/audit-events', pwd), (r) => r.statusCode === 403));
    expect((await api('GET', '/api/v1/audit-events', await signInWithTotp(a, user, secret))).statusCode).toBe(200);
    // Built-in roles take the flag too (API.md: "an operator's edits (e.g. requireMfa on admin) survive restarts").
    const manager = ((await api('GET', '/api/v1/roles', adminToken)).json() as { id: string; name: string }[]).find((r) => r.name === 'manager')!;
    expect((await api('PATCH', `/api/v1/roles/${manager.id}`, adminToken, { requireMfa: true })).json()).toMatchObject({ builtIn: true, requireMfa: true });

    // A restart: a new instance on the same database (and the same MFA key, as a deployment keeps it).
    const b = await createTestApp({ database: a.database, env: { MFA_ENCRYPTION_KEY: a.config.mfa.encryptionKey!.toString('base64') } });
    try {
      await b.app.get(ChangeFeed).whenLive();
      const roles = (await call(b, 'GET', '/api/v1/roles', (await loginTokens(b, admin)).accessToken)).json() as { name: string; requireMfa: boolean }[];
      expect(roles.find((r) => r.name === 'reporting')).toMatchObject({ requireMfa: true });
      expect(roles.find((r) => r.name === 'manager')).toMatchObject({ requireMfa: true });
      expect(roles.find((r) => r.name === 'auditor')).toMatchObject({ requireMfa: true });
      expect(roles.find((r) => r.name === 'admin')).toMatchObject({ requireMfa: false });

      const pwdOnB = (await loginTokens(b, pwdOnlyUser)).accessToken;
      expectMfaRequired(await call(b, 'GET', '/api/v1/audit-events', pwdOnB));
      const mfaOnB = await signInWithTotp(b, user, secret, 1);
      expect((await call(b, 'GET', '/api/v1/audit-events', mfaOnB)).statusCode).toBe(200);
      // …and the flag can be lifted again.
      expect((await call(b, 'PATCH', `/api/v1/roles/${role.id}`, (await loginTokens(b, admin)).accessToken, { requireMfa: false })).json()).toMatchObject({ requireMfa: false });
      expect((await eventually(() => call(b, 'GET', '/api/v1/audit-events', pwdOnB), (r) => r.statusCode === 200)).statusCode).toBe(200);
    } finally {
      await b.close();
    }
    const [{ require_mfa }] = await em(a).execute('SELECT require_mfa FROM roles WHERE name = ?', ['manager']);
    expect(require_mfa).toBe(true);
  });

  it('6.3.3: MFA is enforceable for the privileged built-in admin role — a password-only admin is asked to step up, an admin signed in with TOTP is not', async () => {
    const second = await createUser(a, { roles: ['admin'] });
    const secret = await enrol(a, second);
    const mfaAdmin = await signInWithTotp(a, second, secret);
    const adminRole = ((await api('GET', '/api/v1/roles', adminToken)).json() as { id: string; name: string }[]).find((r) => r.name === 'admin')!;
    try {
      expect((await api('PATCH', `/api/v1/roles/${adminRole.id}`, mfaAdmin, { requireMfa: true })).json()).toMatchObject({ requireMfa: true });
      expectMfaRequired(await eventually(() => api('GET', '/api/v1/users', adminToken), (r) => r.statusCode === 403));
      expectMfaRequired(await api('POST', '/api/v1/roles', adminToken, { name: 'sneaky', permissions: [] }));
      expectMfaRequired(await api('GET', `/api/v1/users/${second.id}`, adminToken));
      // Self-service routes need no role, so the password-only admin can still reach them (e.g. to enrol).
      expect((await api('GET', '/api/v1/users/me', adminToken)).statusCode).toBe(200);
      expect((await api('GET', '/api/v1/users', mfaAdmin)).statusCode).toBe(200);
      expect((await api('GET', `/api/v1/users/${second.id}`, mfaAdmin)).json()).toMatchObject({ id: second.id, mfaEnabled: true });
    } finally {
      expect((await api('PATCH', `/api/v1/roles/${adminRole.id}`, mfaAdmin, { requireMfa: false })).statusCode).toBe(200);
    }
    expect((await eventually(() => api('GET', '/api/v1/users', adminToken), (r) => r.statusCode === 200)).statusCode).toBe(200);
    const [{ n }] = await em(a).execute(`SELECT count(*)::int AS n FROM roles WHERE name = 'sneaky'`);
    expect(n).toBe(0);
  });
});
