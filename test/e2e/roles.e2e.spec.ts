import { createMongoAbility, subject } from '@casl/ability';
import { ChangeFeed } from '../../src/database/change-feed/change-feed.service';
import { bearer, createUser, type CreatedUser, em, loginTokens } from '../support/auth-helpers';
import { expectValidation, PROBLEM_JSON } from '../support/problem-assertions';
import { createTestApp, type TestApp } from '../support/test-app';

const ROLE_KEYS = ['builtIn', 'description', 'id', 'name', 'permissions', 'requireMfa'];
const DEPT = '${user.departmentId}';
const ME = '${user.id}';
const NO_SUCH_ID = '0b9c4d8e-2f7a-4c1e-9d3b-5a6f7e8d9c0b';

/** The built-in roles as API.md describes them, written out independently of the seed code. */
const BUILT_IN_PERMISSIONS: Record<string, unknown[]> = {
  admin: [{ action: 'manage', subject: 'all' }],
  manager: [
    { action: 'manage', subject: 'Document', conditions: { departmentId: DEPT } },
    { action: 'read', subject: 'User', conditions: { departmentId: DEPT } },
    { action: 'read', subject: 'Department', conditions: { id: DEPT } },
  ],
  editor: [
    { action: 'create', subject: 'Document', conditions: { departmentId: DEPT, classification: { $ne: 'confidential' } } },
    { action: 'read', subject: 'Document', conditions: { departmentId: DEPT, classification: { $ne: 'confidential' } } },
    {
      action: 'update',
      subject: 'Document',
      fields: ['title', 'body', 'classification'],
      conditions: { ownerId: ME, departmentId: DEPT, status: 'draft', classification: { $ne: 'confidential' } },
    },
    { action: 'delete', subject: 'Document', conditions: { ownerId: ME, departmentId: DEPT, status: 'draft' } },
  ],
  viewer: [
    { action: 'read', subject: 'Document', conditions: { departmentId: DEPT, status: 'published', classification: { $ne: 'confidential' } } },
    { action: 'read', subject: 'Department', conditions: { id: DEPT } },
  ],
};

interface Role {
  id: string;
  name: string;
  description: string;
  permissions: unknown[];
  requireMfa: boolean;
  builtIn: boolean;
}

describe('Roles and policies (ASVS 8.2.1, 8.2.2, 8.2.3; API.md "Policies")', () => {
  let t: TestApp;
  let admin: CreatedUser;
  let adminToken: string;
  let deptA: string;
  let deptB: string;

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: bearer(token), ...(payload === undefined ? {} : { payload: payload as string }) });
  const listRoles = async (): Promise<Role[]> => {
    const res = await api('GET', '/api/v1/roles', adminToken);
    expect(res.statusCode).toBe(200);
    return res.json();
  };
  const roleByName = async (name: string): Promise<Role> => (await listRoles()).find((r) => r.name === name)!;
  const roleCount = async (): Promise<number> => (await em(t).execute('SELECT count(*)::int AS n FROM roles'))[0].n;
  const signIn = async (roles: string[], departmentId: string | null = null) => {
    const user = await createUser(t, { roles, departmentId });
    return { user, token: (await loginTokens(t, user)).accessToken };
  };
  const department = async (name: string): Promise<string> => {
    const res = await api('POST', '/api/v1/departments', adminToken, { name });
    expect(res.statusCode).toBe(201);
    return res.json().id;
  };
  const document = async (departmentId: string, classification: string, publish: boolean): Promise<string> => {
    const res = await api('POST', '/api/v1/documents', adminToken, { title: `${classification} doc`, body: 'text', classification, departmentId });
    expect(res.statusCode).toBe(201);
    if (publish) expect((await api('POST', `/api/v1/documents/${res.json().id}/publish`, adminToken)).statusCode).toBe(200);
    return res.json().id;
  };

  beforeAll(async () => {
    t = await createTestApp();
    admin = await createUser(t, { roles: ['admin'] });
    adminToken = (await loginTokens(t, admin)).accessToken;
    deptA = await department('Roles A');
    deptB = await department('Roles B');
  });
  afterAll(() => t?.close());

  describe('roles CRUD', () => {
    it('8.2.1: GET /roles lists exactly the four built-ins of API.md, builtIn, with their permissions', async () => {
      const roles = await listRoles();
      expect(roles.map((r) => r.name)).toEqual(['admin', 'editor', 'manager', 'viewer']);
      for (const role of roles) {
        expect(Object.keys(role).sort()).toEqual(ROLE_KEYS);
        expect(role).toMatchObject({ builtIn: true, requireMfa: false, id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
        expect(role.description.length).toBeGreaterThan(0);
        expect(role.permissions).toEqual(BUILT_IN_PERMISSIONS[role.name]);
      }
    });

    it('8.2.1: POST creates a role (201), GET/PATCH read and change it, DELETE removes it (204 → 404); every change audited', async () => {
      const before = await roleCount();
      const created = await api('POST', '/api/v1/roles', adminToken, {
        name: 'auditor',
        description: 'Reads the audit log',
        permissions: [{ action: 'read', subject: 'AuditEvent' }],
      });
      expect(created.statusCode).toBe(201);
      const role: Role = created.json();
      expect(role).toEqual({ id: expect.any(String), name: 'auditor', description: 'Reads the audit log', permissions: [{ action: 'read', subject: 'AuditEvent' }], requireMfa: false, builtIn: false });
      expect(await roleCount()).toBe(before + 1);

      expect((await api('GET', `/api/v1/roles/${role.id}`, adminToken)).json()).toEqual(role);
      const patched = await api('PATCH', `/api/v1/roles/${role.id}`, adminToken, {
        name: 'log-reader',
        permissions: [{ action: 'read', subject: 'AuditEvent', conditions: { outcome: 'denied' }, reason: 'only refusals' }],
      });
      expect(patched.statusCode).toBe(200);
      expect(patched.json()).toEqual({ ...role, name: 'log-reader', permissions: [{ action: 'read', subject: 'AuditEvent', conditions: { outcome: 'denied' }, reason: 'only refusals' }] });
      expect((await api('GET', `/api/v1/roles/${role.id}`, adminToken)).json()).toEqual(patched.json());
      expect((await listRoles()).map((r) => r.name)).toContain('log-reader');

      const deleted = await api('DELETE', `/api/v1/roles/${role.id}`, adminToken);
      expect(deleted.statusCode).toBe(204);
      expect(deleted.body).toBe('');
      expect((await api('GET', `/api/v1/roles/${role.id}`, adminToken)).statusCode).toBe(404);
      expect((await api('PATCH', `/api/v1/roles/${role.id}`, adminToken, { description: 'x' })).statusCode).toBe(404);
      expect((await api('DELETE', `/api/v1/roles/${role.id}`, adminToken)).statusCode).toBe(404);
      expect(await roleCount()).toBe(before);

      const events: { type: string; actor_id: string }[] = await em(t).execute(
        `SELECT type, actor_id FROM audit_events WHERE target_type = 'Role' AND target_id = ? ORDER BY at, type`,
        [role.id],
      );
      expect(events.map((e) => e.type).sort()).toEqual(['role.created', 'role.deleted', 'role.updated']);
      expect(events.every((e) => e.actor_id === admin.id)).toBe(true);
    });

    it('8.2.1: a duplicate name answers 409 (on create and on rename) and saves nothing', async () => {
      const first = await api('POST', '/api/v1/roles', adminToken, { name: 'dup-role', permissions: [] });
      expect(first.statusCode).toBe(201);
      const before = await roleCount();
      const again = await api('POST', '/api/v1/roles', adminToken, { name: 'dup-role', permissions: [{ action: 'read', subject: 'User' }] });
      expect(again.statusCode).toBe(409);
      expect(again.headers['content-type']).toMatch(PROBLEM_JSON);
      const builtInName = await api('POST', '/api/v1/roles', adminToken, { name: 'viewer', permissions: [] });
      expect(builtInName.statusCode).toBe(409);
      const other = await api('POST', '/api/v1/roles', adminToken, { name: 'dup-role-2', permissions: [] });
      const rename = await api('PATCH', `/api/v1/roles/${other.json().id}`, adminToken, { name: 'dup-role' });
      expect(rename.statusCode).toBe(409);
      expect(await roleCount()).toBe(before + 1);
      expect((await api('GET', `/api/v1/roles/${first.json().id}`, adminToken)).json().permissions).toEqual([]);
    });

    it('8.2.1: built-in roles cannot be deleted (409) and stay in place', async () => {
      for (const role of await listRoles()) {
        if (!role.builtIn) continue;
        const res = await api('DELETE', `/api/v1/roles/${role.id}`, adminToken);
        expect(res.statusCode).toBe(409);
        expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      }
      expect((await listRoles()).filter((r) => r.builtIn).map((r) => r.name)).toEqual(['admin', 'editor', 'manager', 'viewer']);
    });

    it('8.2.1: GET/PATCH/DELETE with a malformed id → 400, an unknown id → 404', async () => {
      expect((await api('GET', '/api/v1/roles/not-a-uuid', adminToken)).statusCode).toBe(400);
      expect((await api('PATCH', '/api/v1/roles/not-a-uuid', adminToken, { description: 'x' })).statusCode).toBe(400);
      expect((await api('GET', `/api/v1/roles/${NO_SUCH_ID}`, adminToken)).statusCode).toBe(404);
      expect((await api('DELETE', `/api/v1/roles/${NO_SUCH_ID}`, adminToken)).statusCode).toBe(404);
    });

    it('8.2.1: non-admins are refused: role writes (and reads) → 403, nothing changes', async () => {
      const viewerRole = await roleByName('viewer');
      const before = await roleCount();
      for (const roles of [['viewer'], ['manager'], ['editor']]) {
        const { token } = await signIn(roles, deptA);
        const attempts = [
          await api('POST', '/api/v1/roles', token, { name: 'sneaky', permissions: [{ action: 'manage', subject: 'all' }] }),
          await api('PATCH', `/api/v1/roles/${viewerRole.id}`, token, { permissions: [{ action: 'manage', subject: 'all' }] }),
          await api('DELETE', `/api/v1/roles/${viewerRole.id}`, token),
          await api('GET', '/api/v1/roles', token),
          await api('GET', `/api/v1/roles/${viewerRole.id}`, token),
        ];
        for (const res of attempts) {
          expect(res.statusCode).toBe(403);
          expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
        }
      }
      expect(await roleCount()).toBe(before);
      expect((await roleByName('viewer')).permissions).toEqual(BUILT_IN_PERMISSIONS.viewer);
      const [denied] = await em(t).execute(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'access.denied' AND target_type = 'Role'`);
      expect(denied.n).toBeGreaterThanOrEqual(15);
    });

    it('8.2.1: a custom role with only "read Role" may list roles but gets 403 on writes', async () => {
      const created = await api('POST', '/api/v1/roles', adminToken, { name: 'role-reader', permissions: [{ action: 'read', subject: 'Role' }] });
      expect(created.statusCode).toBe(201);
      const { token } = await signIn(['role-reader']);
      expect((await api('GET', '/api/v1/roles', token)).statusCode).toBe(200);
      expect((await api('POST', '/api/v1/roles', token, { name: 'nope', permissions: [] })).statusCode).toBe(403);
      expect((await api('PATCH', `/api/v1/roles/${created.json().id}`, token, { description: 'mine now' })).statusCode).toBe(403);
      expect((await api('DELETE', `/api/v1/roles/${created.json().id}`, token)).statusCode).toBe(403);
    });

    it('6.3.3/8.2.1: requireMfa withholds a role from a password-only session: 403 mfa-required, not 404', async () => {
      const created = await api('POST', '/api/v1/roles', adminToken, { name: 'mfa-auditor', permissions: [{ action: 'read', subject: 'AuditEvent' }] });
      const { token } = await signIn(['mfa-auditor']);
      expect((await api('GET', '/api/v1/audit-events', token)).statusCode).toBe(200);
      const patched = await api('PATCH', `/api/v1/roles/${created.json().id}`, adminToken, { requireMfa: true });
      expect(patched.json()).toMatchObject({ requireMfa: true });
      const refused = await api('GET', '/api/v1/audit-events', token);
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ type: 'urn:bastion:problem:mfa-required', status: 403 });
    });
  });

  describe('8.2.1: permissions are validated; a bad rule is 400 naming its path and nothing is saved', () => {
    const rule = (extra: Record<string, unknown>) => ({ action: 'read', subject: 'Document', ...extra });
    const ok = { action: 'read', subject: 'Department' };
    const manyValues = Array.from({ length: 100 }, (_, i) => `${'x'.repeat(200)}${i}`);
    const cases: [string, unknown[], string][] = [
      ['unknown action', [ok, { action: 'fly', subject: 'Document' }], 'permissions[1].action'],
      ['unknown subject', [{ action: 'read', subject: 'Spaceship' }], 'permissions[0].subject'],
      ['unknown field in fields', [rule({ fields: ['title', 'secretSauce'] })], 'permissions[0].fields[1]'],
      ['unknown field in conditions', [rule({ conditions: { salary: 1 } })], 'permissions[0].conditions.salary'],
      ['unknown rule property', [rule({ when: 'always' })], 'permissions[0].when'],
      ['unknown operator', [rule({ conditions: { status: { $like: 'pub%' } } })], 'permissions[0].conditions.status.$like'],
      ['$where', [rule({ conditions: { $where: 'this.status === "draft"' } })], 'permissions[0].conditions.$where'],
      ['$regex', [rule({ conditions: { title: { $regex: '^.*$' } } })], 'permissions[0].conditions.title.$regex'],
      ['$regex nested in $or', [rule({ conditions: { $or: [{ status: 'draft' }, { title: { $regex: 'a' } }] } })], 'permissions[0].conditions.$or[1].title.$regex'],
      ['constructor as a field', [rule({ conditions: { constructor: { name: 'Object' } } })], 'permissions[0].conditions.constructor'],
      ['constructor as a rule property', [rule({ constructor: { name: 'Function' } })], 'permissions[0].constructor'],
      ['constructor inside $or', [rule({ conditions: { $or: [{ status: 'draft' }, { constructor: 1 }] } })], 'permissions[0].conditions.$or[1].constructor'],
      ['constructor as an operator', [rule({ conditions: { status: { constructor: 'draft' } } })], 'permissions[0].conditions.status.constructor'],
      ['an Object.prototype name as a field', [rule({ conditions: { toString: 'x' } })], 'permissions[0].conditions.toString'],
      ['prototype', [rule({ conditions: { prototype: { x: 1 } } })], 'permissions[0].conditions.prototype'],
      ['unknown placeholder', [rule({ conditions: { ownerId: '${user.email}' } })], 'permissions[0].conditions.ownerId'],
      ['malformed placeholder', [rule({ conditions: { departmentId: '${user.departmentId' } })], 'permissions[0].conditions.departmentId'],
      ['placeholder on a non-id field', [rule({ conditions: { title: '${user.id}' } })], 'permissions[0].conditions.title'],
      ['101 rules', Array.from({ length: 101 }, () => ok), 'permissions'],
      ['20 KB of rules', [rule({ conditions: { title: { $in: manyValues } } })], 'permissions'],
    ];

    it('8.2.1: the oversized case really is over 20 KB and within 100 rules', () => {
      const big = cases.find(([name]) => name === '20 KB of rules')![1];
      expect(JSON.stringify(big).length).toBeGreaterThan(20_000);
      expect(big.length).toBeLessThanOrEqual(100);
    });

    it.each(cases)('8.2.1: %s → 400 (POST and PATCH), nothing saved', async (_name, permissions, field) => {
      const target = await roleByName('editor');
      const before = await roleCount();
      expectValidation(await api('POST', '/api/v1/roles', adminToken, { name: 'invalid-rules', permissions }), field);
      expectValidation(await api('PATCH', `/api/v1/roles/${target.id}`, adminToken, { description: 'changed', permissions }), field);
      expect(await roleCount()).toBe(before);
      const after = await roleByName('editor');
      expect(after).toEqual(target);
      expect(await roleByName('invalid-rules')).toBeUndefined();
    });

    it('8.2.1: an own "__proto__" key (raw JSON text) anywhere in a rule is refused with 400 and nothing is saved', async () => {
      const before = await roleCount();
      const bodies = [
        '{"name":"proto-role","permissions":[{"action":"read","subject":"Document","conditions":{"__proto__":{"status":"draft"}}}]}',
        '{"name":"proto-role","permissions":[{"action":"read","subject":"Document","__proto__":{"inverted":true}}]}',
        '{"name":"proto-role","permissions":[{"action":"read","subject":"Document","conditions":{"status":{"__proto__":{"$ne":"x"}}}}]}',
      ];
      for (const payload of bodies) {
        expect(JSON.parse(payload)).toBeDefined();
        const res = await t.app.inject({ method: 'POST', url: '/api/v1/roles', headers: { ...bearer(adminToken), 'content-type': 'application/json' }, payload });
        expect(res.statusCode).toBe(400);
        expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
        expect(res.json()).toMatchObject({ status: 400 });
      }
      expect(await roleCount()).toBe(before);
      expect(({} as Record<string, unknown>).status).toBeUndefined();
    });

    it('8.2.1: valid rules with every allowed operator, placeholders and an inverted rule are accepted as sent', async () => {
      const permissions = [
        { action: 'read', subject: 'Document', conditions: { departmentId: DEPT, status: { $in: ['published', 'archived'] }, version: { $gte: 1, $lt: 100 } } },
        { action: 'update', subject: 'Document', fields: ['title'], conditions: { ownerId: ME, classification: { $nin: ['confidential'] } } },
        { action: 'read', subject: 'AuditEvent', conditions: { 'details.reason': { $exists: true }, at: { $gt: '2020-01-01T00:00:00Z' } } },
        { action: 'delete', subject: 'Document', inverted: true, conditions: { status: { $ne: 'draft' } }, reason: 'Only drafts can be deleted' },
      ];
      const res = await api('POST', '/api/v1/roles', adminToken, { name: 'rich-rules', permissions, requireMfa: false });
      expect(res.statusCode).toBe(201);
      expect(res.json().permissions).toEqual(permissions);
      const [row] = await em(t).execute('SELECT permissions FROM roles WHERE id = ?', [res.json().id]);
      expect(row.permissions).toEqual(permissions);
    });
  });

  describe('GET /policies/me', () => {
    it('8.2.1: a viewer in department A gets its rules with placeholders resolved to A\'s id, usable with createMongoAbility', async () => {
      const { token } = await signIn(['viewer'], deptA);
      const res = await api('GET', '/api/v1/policies/me', token);
      expect(res.statusCode).toBe(200);
      const { rules } = res.json();
      expect(res.body).not.toContain('${');
      expect(rules).toEqual(
        expect.arrayContaining([
          { action: 'read', subject: 'Document', conditions: { departmentId: deptA, status: 'published', classification: { $ne: 'confidential' } } },
          { action: 'read', subject: 'Department', conditions: { id: deptA } },
        ]),
      );
      expect(rules).toHaveLength(2);

      const ability = createMongoAbility(rules);
      expect(ability.can('read', subject('Document', { departmentId: deptA, status: 'published', classification: 'internal' }))).toBe(true);
      expect(ability.can('read', subject('Document', { departmentId: deptB, status: 'published', classification: 'internal' }))).toBe(false);
      expect(ability.can('read', subject('Document', { departmentId: deptA, status: 'draft', classification: 'internal' }))).toBe(false);
      expect(ability.can('read', subject('Document', { departmentId: deptA, status: 'published', classification: 'confidential' }))).toBe(false);
      expect(ability.can('read', subject('Department', { id: deptA }))).toBe(true);
      expect(ability.can('read', subject('Department', { id: deptB }))).toBe(false);
      expect(ability.can('update', 'Document')).toBe(false);
      expect(ability.can('read', 'User')).toBe(false);
    });

    it('8.2.1: an editor\'s ${user.id} becomes their own id; an admin gets manage all; no department → department rules left out', async () => {
      const editor = await signIn(['editor'], deptB);
      const rules = (await api('GET', '/api/v1/policies/me', editor.token)).json().rules;
      expect(JSON.stringify(rules)).not.toContain('${');
      const update = rules.find((r: { action: string }) => r.action === 'update');
      expect(update.conditions).toMatchObject({ ownerId: editor.user.id, departmentId: deptB });
      const ability = createMongoAbility(rules);
      const ownDraft = { ownerId: editor.user.id, departmentId: deptB, status: 'draft', classification: 'internal' };
      expect(ability.can('update', subject('Document', ownDraft), 'title')).toBe(true);
      expect(ability.can('update', subject('Document', ownDraft), 'status')).toBe(false);
      expect(ability.can('update', subject('Document', { ...ownDraft, ownerId: admin.id }), 'title')).toBe(false);

      expect((await api('GET', '/api/v1/policies/me', adminToken)).json()).toEqual({ rules: [{ action: 'manage', subject: 'all' }] });
      const homeless = await signIn(['viewer'], null);
      expect((await api('GET', '/api/v1/policies/me', homeless.token)).json()).toEqual({ rules: [] });
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/policies/me' })).statusCode).toBe(401);
    });
  });

  describe('POST /policies/check', () => {
    const check = (token: string, body: Record<string, unknown>) => api('POST', '/api/v1/policies/check', token, body);

    it('8.2.1: type-level checks answer allowed, or denied with a reason', async () => {
      const { token } = await signIn(['viewer'], deptA);
      const allowed = await check(token, { action: 'read', subject: 'Document' });
      expect(allowed.statusCode).toBe(200);
      expect(allowed.json()).toEqual({ allowed: true });
      const denied = await check(token, { action: 'delete', subject: 'Document' });
      expect(denied.statusCode).toBe(200);
      expect(denied.json()).toEqual({ allowed: false, reason: expect.any(String) });
      expect(denied.json().reason.length).toBeGreaterThan(0);
      expect((await check(token, { action: 'read', subject: 'User' })).json()).toMatchObject({ allowed: false });
      expect((await check(adminToken, { action: 'manage', subject: 'all' })).json()).toEqual({ allowed: true });
    });

    it('8.2.2: with an id the record decides; a rule\'s own reason is returned; an unreadable record → 404', async () => {
      await api('POST', '/api/v1/roles', adminToken, {
        name: 'frozen-confidential',
        permissions: [
          { action: 'read', subject: 'Document', conditions: { departmentId: DEPT } },
          { action: 'update', subject: 'Document', conditions: { departmentId: DEPT } },
          { action: 'update', subject: 'Document', inverted: true, conditions: { classification: 'confidential' }, reason: 'Confidential documents are frozen' },
        ],
      });
      const { token } = await signIn(['frozen-confidential'], deptA);
      const internalA = await document(deptA, 'internal', false);
      const confidentialA = await document(deptA, 'confidential', false);
      const internalB = await document(deptB, 'internal', true);

      expect((await check(token, { action: 'update', subject: 'Document', id: internalA })).json()).toEqual({ allowed: true });
      expect((await check(token, { action: 'update', subject: 'Document', id: confidentialA })).json()).toEqual({ allowed: false, reason: 'Confidential documents are frozen' });
      for (const id of [internalB, NO_SUCH_ID]) {
        const hidden = await check(token, { action: 'read', subject: 'Document', id });
        expect(hidden.statusCode).toBe(404);
        expect(hidden.headers['content-type']).toMatch(PROBLEM_JSON);
      }
      // The same 404 for an existing-but-unreadable and a missing record: nothing is revealed.
      const a = await check(token, { action: 'update', subject: 'Document', id: internalB });
      const b = await check(token, { action: 'update', subject: 'Document', id: NO_SUCH_ID });
      expect([a.statusCode, a.json().detail]).toEqual([b.statusCode, b.json().detail]);
      // A viewer cannot probe drafts of their own department either.
      const viewer = await signIn(['viewer'], deptA);
      expect((await check(viewer.token, { action: 'read', subject: 'Document', id: internalA })).statusCode).toBe(404);
      const published = await document(deptA, 'public', true);
      expect((await check(viewer.token, { action: 'read', subject: 'Document', id: published })).json()).toEqual({ allowed: true });
    });

    it('8.2.3: with a field the field-level rules decide', async () => {
      const editor = await signIn(['editor'], deptA);
      const created = await api('POST', '/api/v1/documents', editor.token, { title: 'Mine', body: 'draft text' });
      expect(created.statusCode).toBe(201);
      const id = created.json().id;
      expect((await check(editor.token, { action: 'update', subject: 'Document', id, field: 'title' })).json()).toEqual({ allowed: true });
      expect((await check(editor.token, { action: 'update', subject: 'Document', id, field: 'status' })).json()).toMatchObject({ allowed: false, reason: expect.any(String) });
      expect((await check(editor.token, { action: 'update', subject: 'Document', field: 'ownerId' })).json()).toMatchObject({ allowed: false });
      expect((await check(editor.token, { action: 'update', subject: 'Document', field: 'body' })).json()).toEqual({ allowed: true });
    });

    it('8.2.2: every subject is loaded by id in the shape its rules see (each module registers its own loader)', async () => {
      await api('POST', '/api/v1/roles', adminToken, {
        name: 'record-reader',
        permissions: [
          { action: 'read', subject: 'Department', conditions: { id: DEPT } },
          { action: 'read', subject: 'Session', conditions: { userId: ME } },
          { action: 'read', subject: 'AuditEvent', conditions: { actorId: ME } },
          { action: 'read', subject: 'Role', conditions: { name: 'record-reader' } },
          { action: 'read', subject: 'User', conditions: { departmentId: DEPT } },
        ],
      });
      const reader = await signIn(['record-reader'], deptA);
      const other = await signIn(['viewer'], deptB);
      const idOf = async (sql: string, userId: string): Promise<string> => (await em(t).execute(sql, [userId]))[0].id;
      const sessionOf = (userId: string) => idOf('SELECT id FROM sessions WHERE user_id = ? LIMIT 1', userId);
      const eventOf = (userId: string) => idOf('SELECT id FROM audit_events WHERE actor_id = ? LIMIT 1', userId);
      const pairs: [string, string, string][] = [
        ['Department', deptA, deptB],
        ['Session', await sessionOf(reader.user.id), await sessionOf(other.user.id)],
        ['AuditEvent', await eventOf(reader.user.id), await eventOf(other.user.id)],
        ['Role', (await roleByName('record-reader')).id, (await roleByName('viewer')).id],
        ['User', reader.user.id, other.user.id],
      ];
      for (const [subject, readable, hidden] of pairs) {
        expect([subject, (await check(reader.token, { action: 'read', subject, id: readable })).json()]).toEqual([subject, { allowed: true }]);
        expect([subject, (await check(reader.token, { action: 'read', subject, id: hidden })).statusCode]).toEqual([subject, 404]);
        expect([subject, (await check(reader.token, { action: 'read', subject, id: NO_SUCH_ID })).statusCode]).toEqual([subject, 404]);
      }
    });

    it('8.2.1: userId needs read on Role (viewer → 403); an admin gets the answer for that user', async () => {
      const viewer = await signIn(['viewer'], deptA);
      const other = await createUser(t, { roles: ['manager'], departmentId: deptA });
      const refused = await check(viewer.token, { action: 'read', subject: 'User', userId: other.id });
      expect(refused.statusCode).toBe(403);
      expect(refused.headers['content-type']).toMatch(PROBLEM_JSON);
      // Asking about oneself needs nothing more.
      expect((await check(viewer.token, { action: 'read', subject: 'User', userId: viewer.user.id })).json()).toMatchObject({ allowed: false });

      const publishedA = await document(deptA, 'internal', true);
      const publishedB = await document(deptB, 'internal', true);
      expect((await check(adminToken, { action: 'read', subject: 'User', userId: viewer.user.id })).json()).toMatchObject({ allowed: false });
      expect((await check(adminToken, { action: 'read', subject: 'User', userId: other.id })).json()).toEqual({ allowed: true });
      expect((await check(adminToken, { action: 'read', subject: 'Document', id: publishedA, userId: viewer.user.id })).json()).toEqual({ allowed: true });
      expect((await check(adminToken, { action: 'read', subject: 'Document', id: publishedB, userId: viewer.user.id })).json()).toMatchObject({ allowed: false });
      expect((await check(adminToken, { action: 'read', subject: 'User', id: viewer.user.id, userId: other.id })).json()).toEqual({ allowed: true });
      expect((await check(adminToken, { action: 'read', subject: 'User', userId: NO_SUCH_ID })).statusCode).toBe(404);
    });

    it('8.2.1: unknown action or subject, a malformed id or unknown body fields → 400', async () => {
      expectValidation(await check(adminToken, { action: 'fly', subject: 'Document' }), 'action');
      expectValidation(await check(adminToken, { action: 'read', subject: 'Spaceship' }), 'subject');
      expectValidation(await check(adminToken, { action: 'read', subject: 'Document', id: 'nope' }), 'id');
      expectValidation(await check(adminToken, { action: 'read', subject: 'Document', userId: 'nope' }), 'userId');
      expectValidation(await check(adminToken, { action: 'read', subject: 'Document', conditions: {} }), 'conditions');
      expectValidation(await check(adminToken, { subject: 'Document' }), 'action');
    });
  });

  describe('built-ins can be edited, and the edit survives a restart', () => {
    it('8.2.1: editing viewer (permissions, description) and manager (requireMfa) is allowed; a second boot keeps the edits and re-seeds only what is missing', async () => {
      const viewer = await roleByName('viewer');
      const manager = await roleByName('manager');
      const editor = await roleByName('editor');
      const narrowed = [{ action: 'read', subject: 'Department', conditions: { id: DEPT } }];
      const edit = await api('PATCH', `/api/v1/roles/${viewer.id}`, adminToken, { permissions: narrowed, description: 'Operator edit' });
      expect(edit.statusCode).toBe(200);
      expect(edit.json()).toEqual({ ...viewer, permissions: narrowed, description: 'Operator edit', builtIn: true });
      expect((await api('PATCH', `/api/v1/roles/${manager.id}`, adminToken, { requireMfa: true })).json()).toMatchObject({ requireMfa: true, builtIn: true });
      // A built-in keeps its name: other apps refer to it.
      expect((await api('PATCH', `/api/v1/roles/${viewer.id}`, adminToken, { name: 'reader' })).statusCode).toBe(409);
      // The edit is in force at once.
      const { token } = await signIn(['viewer'], deptA);
      expect((await api('POST', '/api/v1/policies/check', token, { action: 'read', subject: 'Document' })).json()).toMatchObject({ allowed: false });

      // An upgrade adds (here: restores) a built-in that is missing; the seeder must leave the rest alone.
      await em(t).execute(`DELETE FROM roles WHERE name = 'editor'`);
      const second = await createTestApp({ database: t.database });
      try {
        await second.app.get(ChangeFeed).whenLive();
        const secondAdmin = (await loginTokens(second, admin)).accessToken;
        const res = await second.app.inject({ method: 'GET', url: '/api/v1/roles', headers: bearer(secondAdmin) });
        const roles: Role[] = res.json();
        const byName = new Map(roles.map((r) => [r.name, r]));
        expect(byName.get('viewer')).toEqual({ ...viewer, permissions: narrowed, description: 'Operator edit' });
        expect(byName.get('manager')).toEqual({ ...manager, requireMfa: true });
        expect(byName.get('editor')).toMatchObject({ name: 'editor', builtIn: true, requireMfa: false, permissions: BUILT_IN_PERMISSIONS.editor });
        expect(byName.get('editor')!.id).not.toBe(editor.id);
        const secondViewer = (await loginTokens(second, (await signIn(['viewer'], deptA)).user)).accessToken;
        expect((await second.app.inject({ method: 'POST', url: '/api/v1/policies/check', headers: bearer(secondViewer), payload: { action: 'read', subject: 'Document' } })).json()).toMatchObject({ allowed: false });
      } finally {
        await second.close();
      }
      const [{ n }] = await em(t).execute(`SELECT count(*)::int AS n FROM roles WHERE built_in`);
      expect(n).toBe(4);
    });
  });
});
