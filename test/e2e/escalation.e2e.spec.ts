import { bearer, createUser, type CreatedUser, em, loginTokens, STRONG_PASSWORD, uniqueEmail } from '../support/auth-helpers';
import { expectProblem } from '../support/problem-assertions';
import { createTestApp, type TestApp } from '../support/test-app';

const DEPT = '${user.departmentId}';

interface Role {
  id: string;
  name: string;
  description: string;
  permissions: unknown[];
  requireMfa: boolean;
  updatedAt: Date;
}

/**
 * Nobody grants more than they hold (issue 11 item 1; API.md "Policies — escalation"): the four
 * escalations a black-box run found, each refused with nothing written, and the delegations that
 * must keep working.
 */
describe('escalation prevention: assign, escalate and rule coverage (ASVS 8.2.1, 8.3.1)', () => {
  let t: TestApp;
  let adminToken: string;
  let deptA: string;

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: bearer(token), ...(payload === undefined ? {} : { payload: payload as string }) });
  const defineRole = async (name: string, permissions: unknown[]): Promise<Role> => {
    const res = await api('POST', '/api/v1/roles', adminToken, { name, permissions });
    expect(res.statusCode).toBe(201);
    return res.json();
  };
  const signIn = async (roles: string[], departmentId: string | null = null): Promise<{ user: CreatedUser; token: string }> => {
    const user = await createUser(t, { roles, departmentId });
    return { user, token: (await loginTokens(t, user)).accessToken };
  };
  const roleNamed = async (name: string): Promise<Role> => {
    const [row]: Role[] = await em(t).execute('SELECT id, name, description, permissions, require_mfa AS "requireMfa", updated_at AS "updatedAt" FROM roles WHERE name = ?', [name]);
    return row;
  };
  const rolesOf = async (userId: string): Promise<string[]> => {
    const rows: { name: string }[] = await em(t).execute('SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = ? ORDER BY r.name', [userId]);
    return rows.map((r) => r.name);
  };
  const count = async (table: 'users' | 'roles'): Promise<number> => (await em(t).execute(`SELECT count(*)::int AS n FROM ${table}`))[0].n;
  const fieldsOf = (body: Record<string, unknown>) => (body.errors as { field: string }[]).map((e) => e.field);
  const denials = async (actorId: string, action: string): Promise<{ reason: string }[]> => {
    const rows: { details: { reason: string } }[] = await em(t).execute(`SELECT details FROM audit_events WHERE type = 'access.denied' AND actor_id = ? AND details->>'action' = ?`, [actorId, action]);
    return rows.map((r) => r.details);
  };

  beforeAll(async () => {
    t = await createTestApp();
    const admin = await createUser(t, { roles: ['admin'] });
    adminToken = (await loginTokens(t, admin)).accessToken;
    const res = await api('POST', '/api/v1/departments', adminToken, { name: 'Escalation A' });
    expect(res.statusCode).toBe(201);
    deptA = res.json().id;
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('the four escalations are refused, with nothing written', () => {
    it('create User + read User: POST /users with roles ["admin"] → 403 naming roles[0]; no user; audited. Without roles the default viewer needs no assign', async () => {
      await defineRole('user-maker', [
        { action: 'create', subject: 'User' },
        { action: 'read', subject: 'User' },
      ]);
      const maker = await signIn(['user-maker']);
      const users = await count('users');
      const email = uniqueEmail('would-be-admin');
      const res = await api('POST', '/api/v1/users', maker.token, { email, displayName: 'Would-be admin', password: STRONG_PASSWORD, roles: ['admin'] });
      const body = expectProblem(res, 403);
      expect(body.errors).toEqual([{ field: 'roles[0]', message: expect.stringContaining('"admin"') }]);
      expect(await count('users')).toBe(users);
      expect(await em(t).execute('SELECT id FROM users WHERE email = ?', [email])).toEqual([]);
      expect(await denials(maker.user.id, 'assign')).toEqual([expect.objectContaining({ reason: 'roles: admin' })]);

      const plain = await api('POST', '/api/v1/users', maker.token, { email: uniqueEmail('plain'), displayName: 'Plain', password: STRONG_PASSWORD });
      expect(plain.statusCode).toBe(201);
      expect(plain.json().roles).toEqual(['viewer']);
    });

    it('create Role: a role granting manage all → 403 naming permissions[0]; no role', async () => {
      await defineRole('role-maker', [{ action: 'create', subject: 'Role' }]);
      const maker = await signIn(['role-maker']);
      const roles = await count('roles');
      const res = await api('POST', '/api/v1/roles', maker.token, { name: 'backdoor', permissions: [{ action: 'manage', subject: 'all' }] });
      const body = expectProblem(res, 403);
      expect(body.errors).toEqual([{ field: 'permissions[0]', message: expect.stringContaining('manage all') }]);
      expect(await count('roles')).toBe(roles);
      expect(await denials(maker.user.id, 'escalate')).toHaveLength(1);
    });

    it('update Role: rewriting its own role, the built-in viewer, or requireMfa on admin → 403; nothing changes', async () => {
      const own = await defineRole('role-editor', [
        { action: 'read', subject: 'Role' },
        { action: 'update', subject: 'Role' },
      ]);
      const editor = await signIn(['role-editor']);
      const viewerBefore = await roleNamed('viewer');
      const adminBefore = await roleNamed('admin');

      const self = await api('PATCH', `/api/v1/roles/${own.id}`, editor.token, { permissions: [...own.permissions, { action: 'manage', subject: 'all' }] });
      expect(fieldsOf(expectProblem(self, 403))).toEqual(['permissions[2]']);
      expect((await roleNamed('role-editor')).permissions).toEqual(own.permissions);

      // Every viewer would become admin; the rule is also one the caller lacks, and viewer is built in.
      const viewer = await api('PATCH', `/api/v1/roles/${viewerBefore.id}`, editor.token, { permissions: [{ action: 'manage', subject: 'all' }] });
      expect(fieldsOf(expectProblem(viewer, 403))).toEqual(['builtIn', 'permissions[0]']);
      // Even a change made only of rules it holds, or of the description, needs escalate on a built-in role.
      const covered = await api('PATCH', `/api/v1/roles/${viewerBefore.id}`, editor.token, { permissions: [{ action: 'read', subject: 'Role' }], description: 'changed' });
      expect(fieldsOf(expectProblem(covered, 403))).toEqual(['builtIn']);
      expect(await roleNamed('viewer')).toEqual(viewerBefore);

      const mfa = await api('PATCH', `/api/v1/roles/${adminBefore.id}`, editor.token, { requireMfa: true });
      expect(fieldsOf(expectProblem(mfa, 403))).toEqual(['builtIn', 'requireMfa']);
      expect(await roleNamed('admin')).toEqual(adminBefore);
      expect(await denials(editor.user.id, 'escalate')).toHaveLength(4);
    });

    it('update User field roles: assigning admin to someone else → 403 naming roles[0]; their roles stay', async () => {
      await defineRole('role-setter', [
        { action: 'read', subject: 'User' },
        { action: 'update', subject: 'User', fields: ['roles'] },
      ]);
      const setter = await signIn(['role-setter']);
      const target = await createUser(t, { roles: ['viewer'] });
      const res = await api('PATCH', `/api/v1/users/${target.id}`, setter.token, { roles: ['viewer', 'admin'] });
      expect(expectProblem(res, 403).errors).toEqual([{ field: 'roles[1]', message: expect.stringContaining('"admin"') }]);
      expect(await rolesOf(target.id)).toEqual(['viewer']);
      // Taking a role away needs assign on it too.
      const removal = await api('PATCH', `/api/v1/users/${target.id}`, setter.token, { roles: [] });
      expect(expectProblem(removal, 403).errors).toEqual([{ field: 'roles', message: expect.stringContaining('remove the role "viewer"') }]);
      expect(await rolesOf(target.id)).toEqual(['viewer']);
    });
  });

  describe('legitimate delegation keeps working', () => {
    it('an HR role creates editors and viewers, moves users between them, and nothing more', async () => {
      await defineRole('hr', [
        { action: 'read', subject: 'User' },
        { action: 'create', subject: 'User', fields: ['email', 'displayName', 'roles', 'departmentId'] },
        { action: 'update', subject: 'User', fields: ['roles'] },
        { action: 'assign', subject: 'Role', conditions: { name: { $in: ['viewer', 'editor'] } } },
      ]);
      const hr = await signIn(['hr']);
      const created = await api('POST', '/api/v1/users', hr.token, { email: uniqueEmail('editor'), displayName: 'New editor', roles: ['editor'], departmentId: deptA });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ roles: ['editor'], departmentId: deptA });
      const id = created.json().id;
      const moved = await api('PATCH', `/api/v1/users/${id}`, hr.token, { roles: ['viewer'] });
      expect(moved.statusCode).toBe(200);
      expect(await rolesOf(id)).toEqual(['viewer']);

      const users = await count('users');
      const manager = await api('POST', '/api/v1/users', hr.token, { email: uniqueEmail('manager'), displayName: 'Manager', roles: ['editor', 'manager'] });
      expect(expectProblem(manager, 403).errors).toEqual([{ field: 'roles[1]', message: expect.stringContaining('"manager"') }]);
      expect(await count('users')).toBe(users);
      // An initial password is a credential, not a field of the User record: `fields` does not limit it.
      const withPassword = await api('POST', '/api/v1/users', hr.token, { email: uniqueEmail('x'), displayName: 'X', roles: ['viewer'], password: STRONG_PASSWORD });
      expect(withPassword.statusCode).toBe(201);
      // Removing viewer is within its assign rule, granting manager is not: the whole change is refused.
      const promote = await api('PATCH', `/api/v1/users/${id}`, hr.token, { roles: ['manager'] });
      expect(fieldsOf(expectProblem(promote, 403))).toEqual(['roles[0]']);
      expect(await rolesOf(id)).toEqual(['viewer']);
    });

    it('a create names only the fields its rule allows: a field outside `fields` → 403 naming it', async () => {
      await defineRole('name-only-maker', [
        { action: 'read', subject: 'User' },
        { action: 'create', subject: 'User', fields: ['email', 'displayName'] },
      ]);
      const maker = await signIn(['name-only-maker']);
      const users = await count('users');
      const res = await api('POST', '/api/v1/users', maker.token, { email: uniqueEmail('dept'), displayName: 'Dept', departmentId: deptA });
      expect(fieldsOf(expectProblem(res, 403))).toEqual(['departmentId']);
      expect(await count('users')).toBe(users);
      const plain = await api('POST', '/api/v1/users', maker.token, { email: uniqueEmail('plain'), displayName: 'Plain' });
      expect(plain.statusCode).toBe(201);
      expect(plain.json().roles).toEqual(['viewer']);
    });

    it('a role steward creates a role with a subset of its own rights; a rule beyond them → 403 naming it', async () => {
      const editorRead = { action: 'read', subject: 'Document', conditions: { departmentId: DEPT, classification: { $ne: 'confidential' } } };
      await defineRole('role-steward', [
        { action: 'read', subject: 'Role' },
        { action: 'create', subject: 'Role' },
        { action: 'update', subject: 'Role', conditions: { builtIn: false } },
        editorRead,
        { action: 'update', subject: 'Document', fields: ['title', 'body'], conditions: { departmentId: DEPT } },
      ]);
      const steward = await signIn(['role-steward'], deptA);
      const subset = [
        { ...editorRead, conditions: { ...editorRead.conditions, status: 'published' } },
        { action: 'update', subject: 'Document', fields: ['title'], conditions: { departmentId: DEPT } },
        { action: 'delete', subject: 'Document', inverted: true },
      ];
      const created = await api('POST', '/api/v1/roles', steward.token, { name: 'reader', permissions: subset });
      expect(created.statusCode).toBe(201);
      expect(created.json().permissions).toEqual(subset);

      const roles = await count('roles');
      const beyond = await api('POST', '/api/v1/roles', steward.token, {
        name: 'too-much',
        permissions: [subset[0], { action: 'update', subject: 'Document', conditions: { departmentId: DEPT } }, { action: 'read', subject: 'Document', conditions: { departmentId: deptA } }],
      });
      expect(fieldsOf(expectProblem(beyond, 403))).toEqual(['permissions[1]', 'permissions[2]']);
      expect(await count('roles')).toBe(roles);

      // Lifting the restriction it wrote gives back delete on documents, which it does not hold.
      const lift = await api('PATCH', `/api/v1/roles/${created.json().id}`, steward.token, { permissions: subset.slice(0, 2) });
      expect(expectProblem(lift, 403).errors).toEqual([{ field: 'permissions', message: expect.stringContaining('lifting a restriction') }]);
      // Renaming hands the rules to a new name: allowed, they are all its own.
      const renamed = await api('PATCH', `/api/v1/roles/${created.json().id}`, steward.token, { name: 'doc-reader' });
      expect(renamed.statusCode).toBe(200);
      expect((await roleNamed('doc-reader')).permissions).toEqual(subset);
    });

    it('escalate on Role (here: custom roles only) allows rules the caller does not hold; built-ins stay out of reach', async () => {
      await defineRole('policy-officer', [
        { action: 'read', subject: 'Role' },
        { action: 'create', subject: 'Role' },
        { action: 'update', subject: 'Role' },
        { action: 'escalate', subject: 'Role', conditions: { builtIn: false } },
      ]);
      const officer = await signIn(['policy-officer']);
      const res = await api('POST', '/api/v1/roles', officer.token, { name: 'auditors', permissions: [{ action: 'read', subject: 'AuditEvent' }], requireMfa: true });
      expect(res.statusCode).toBe(201);
      const mfa = await api('PATCH', `/api/v1/roles/${res.json().id}`, officer.token, { requireMfa: false });
      expect(mfa.statusCode).toBe(200);
      const viewer = await roleNamed('viewer');
      expect(fieldsOf(expectProblem(await api('PATCH', `/api/v1/roles/${viewer.id}`, officer.token, { description: 'mine now' }), 403))).toEqual(['builtIn']);
      expect(await roleNamed('viewer')).toEqual(viewer);
    });

    it('escalate must allow the role as it is and as the change leaves it: a rename out of its reach is checked like a write', async () => {
      await defineRole('sandbox-keeper', [
        { action: 'read', subject: 'Role' },
        { action: 'update', subject: 'Role' },
        { action: 'escalate', subject: 'Role', conditions: { name: 'sandbox' } },
      ]);
      const sandbox = await defineRole('sandbox', []);
      const keeper = await signIn(['sandbox-keeper']);
      const write = await api('PATCH', `/api/v1/roles/${sandbox.id}`, keeper.token, { permissions: [{ action: 'read', subject: 'AuditEvent' }] });
      expect(write.statusCode).toBe(200);
      const rename = await api('PATCH', `/api/v1/roles/${sandbox.id}`, keeper.token, { name: 'auditor-role' });
      expect(fieldsOf(expectProblem(rename, 403))).toEqual(['permissions[0]']);
      expect(await roleNamed('sandbox')).toMatchObject({ permissions: [{ action: 'read', subject: 'AuditEvent' }] });
    });
  });
});
