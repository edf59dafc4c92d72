import { decode } from 'jsonwebtoken';
import { bearer, createUser, type CreatedUser, em, login, loginTokens, STRONG_PASSWORD, uniqueEmail } from '../support/auth-helpers';
import { expectValidation, PROBLEM_JSON } from '../support/problem-assertions';
import { extractToken, type SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { createTestApp, type TestApp } from '../support/test-app';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const USER_KEYS = ['createdAt', 'departmentId', 'displayName', 'email', 'emailVerified', 'id', 'mfaEnabled', 'roles', 'status', 'updatedAt'];
const NO_SUCH_ID = '3d6f1c2a-8b4e-4f7a-9c0d-1e2f3a4b5c6d';
const NEW_PASSWORD = 'chosen by the new colleague';

interface UserView {
  id: string;
  email: string;
  displayName: string;
  status: string;
  roles: string[];
  departmentId: string | null;
}

const sidOf = (accessToken: string) => (decode(accessToken) as { sid: string }).sid;

describe('Users administration (ASVS 8.2.1, 8.2.2, 8.2.3, 8.3.2, 8.4.1, 7.4.2; API.md "Users")', () => {
  let sink: SmtpSink;
  let t: TestApp;
  let admin: CreatedUser;
  let adminToken: string;
  let deptA: string;
  let deptB: string;

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: bearer(token), ...(payload === undefined ? {} : { payload: payload as string }) });
  const whoami = (token: string) => t.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: bearer(token) });
  const provision = async (body: Record<string, unknown>): Promise<UserView> => {
    const res = await api('POST', '/api/v1/users', adminToken, { password: STRONG_PASSWORD, ...body });
    expect(res.statusCode).toBe(201);
    return res.json();
  };
  const list = async (token: string, query: string) => {
    const res = await api('GET', `/api/v1/users?${query}`, token);
    expect(res.statusCode).toBe(200);
    return res.json() as { items: UserView[]; total: number; limit: number; offset: number };
  };
  const userCount = async (): Promise<number> => (await em(t).execute('SELECT count(*)::int AS n FROM users'))[0].n;
  const signIn = async (roles: string[], departmentId: string | null = null) => {
    const user = await createUser(t, { roles, departmentId });
    return { user, token: (await loginTokens(t, user)).accessToken };
  };
  const auditOf = async (targetId: string): Promise<{ type: string; actor_id: string; details: Record<string, unknown> }[]> =>
    em(t).execute(`SELECT type, actor_id, details FROM audit_events WHERE target_type = 'User' AND target_id = ? ORDER BY at`, [targetId]);

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await createTestApp({ env: { SMTP_URL: sink.url } });
    admin = await createUser(t, { roles: ['admin'] });
    adminToken = (await loginTokens(t, admin)).accessToken;
    for (const name of ['Users A', 'Users B']) {
      const res = await api('POST', '/api/v1/departments', adminToken, { name });
      expect(res.statusCode).toBe(201);
      if (name.endsWith('A')) deptA = res.json().id;
      else deptB = res.json().id;
    }
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  describe('GET /users', () => {
    let alice: UserView;
    let bob: UserView;
    let carol: UserView;
    let dave: UserView;
    beforeAll(async () => {
      alice = await provision({ email: 'alice.qz7@example.com', displayName: 'Alice 100% Sure', roles: ['editor'] });
      bob = await provision({ email: 'bob_qz7@example.com', displayName: 'Bob Builder', roles: ['viewer', 'editor'] });
      carol = await provision({ email: 'carol.qz7@example.com', displayName: 'Carol x_y', roles: ['viewer'] });
      dave = await provision({ email: 'dave.qz7@example.com', displayName: 'Dave 100 Sure', roles: ['viewer'] });
      expect((await api('PATCH', `/api/v1/users/${carol.id}`, adminToken, { status: 'disabled' })).statusCode).toBe(200);
    });
    const ids = (page: { items: UserView[] }) => page.items.map((u) => u.id).sort();

    it('8.2.1: q searches email and displayName, case-insensitively', async () => {
      expect(ids(await list(adminToken, 'q=qz7'))).toEqual([alice.id, bob.id, carol.id, dave.id].sort());
      expect(ids(await list(adminToken, 'q=QZ7'))).toEqual([alice.id, bob.id, carol.id, dave.id].sort());
      expect(ids(await list(adminToken, 'q=builder'))).toEqual([bob.id]);
      expect(ids(await list(adminToken, `q=${encodeURIComponent('alice.qz7@')}`))).toEqual([alice.id]);
      expect(await list(adminToken, 'q=nobody-has-this-name')).toMatchObject({ items: [], total: 0 });
    });

    it('8.2.1: % and _ in q are taken literally, not as wildcards', async () => {
      expect(ids(await list(adminToken, `q=${encodeURIComponent('100%')}`))).toEqual([alice.id]);
      expect(ids(await list(adminToken, `q=${encodeURIComponent('_qz7')}`))).toEqual([bob.id]);
      expect(ids(await list(adminToken, `q=${encodeURIComponent('x_y')}`))).toEqual([carol.id]);
      expect(ids(await list(adminToken, `q=${encodeURIComponent('%')}`))).toEqual([alice.id]);
      expect((await list(adminToken, `q=${encodeURIComponent('\\')}`)).total).toBe(0);
    });

    it('8.2.1: status and role filter; a user\'s roles are all listed even when filtering by one', async () => {
      expect(ids(await list(adminToken, 'q=qz7&status=disabled'))).toEqual([carol.id]);
      expect(ids(await list(adminToken, 'q=qz7&status=active'))).toEqual([alice.id, bob.id, dave.id].sort());
      expect(await list(adminToken, 'q=qz7&status=pending')).toMatchObject({ total: 0 });
      const editors = await list(adminToken, 'q=qz7&role=editor');
      expect(ids(editors)).toEqual([alice.id, bob.id].sort());
      expect(editors.items.find((u) => u.id === bob.id)!.roles).toEqual(['editor', 'viewer']);
      expect(await list(adminToken, 'q=qz7&role=manager')).toMatchObject({ total: 0 });
      expect(ids(await list(adminToken, 'q=qz7&role=viewer&status=active'))).toEqual([bob.id, dave.id].sort());
    });

    it('8.2.1: limit/offset page through the results with a correct total and no overlap', async () => {
      const first = await list(adminToken, 'q=qz7&limit=3&offset=0');
      const second = await list(adminToken, 'q=qz7&limit=3&offset=3');
      const beyond = await list(adminToken, 'q=qz7&limit=3&offset=8');
      expect(first).toMatchObject({ total: 4, limit: 3, offset: 0 });
      expect(first.items).toHaveLength(3);
      expect(second).toMatchObject({ total: 4, limit: 3, offset: 3 });
      expect(second.items).toHaveLength(1);
      expect(beyond).toMatchObject({ items: [], total: 4 });
      expect([...ids(first), ...ids(second)].sort()).toEqual([alice.id, bob.id, carol.id, dave.id].sort());
      // Newest first.
      expect(first.items[0].id).toBe(dave.id);
      const all = await list(adminToken, '');
      expect(all).toMatchObject({ limit: 20, offset: 0 });
      expect(all.total).toBe((await em(t).execute('SELECT count(*)::int AS n FROM users WHERE deleted_at IS NULL'))[0].n);
      for (const item of all.items) expect(Object.keys(item).sort()).toEqual(USER_KEYS);
      expect(JSON.stringify(all)).not.toMatch(/argon2|password|hash/i);
    });

    it('8.2.1: bad paging or filter values → 400', async () => {
      for (const [query, field] of [
        ['limit=0', 'limit'],
        ['limit=101', 'limit'],
        ['offset=-1', 'offset'],
        ['limit=abc', 'limit'],
        ['status=deleted', 'status'],
        ['role=NOT%20A%20ROLE', 'role'],
        ['unknown=1', 'unknown'],
        [`q=${'x'.repeat(101)}`, 'q'],
      ]) {
        expectValidation(await api('GET', `/api/v1/users?${query}`, adminToken), field);
      }
    });

    it('8.4.1: a manager lists only users of their own department, filtered in SQL (total counts only those)', async () => {
      const manager = await signIn(['manager'], deptA);
      for (let i = 0; i < 2; i++) await createUser(t, { departmentId: deptA });
      for (let i = 0; i < 3; i++) await createUser(t, { departmentId: deptB });
      const [{ n }] = await em(t).execute('SELECT count(*)::int AS n FROM users WHERE department_id = ? AND deleted_at IS NULL', [deptA]);
      expect(n).toBe(3);

      const page = await list(manager.token, 'limit=1');
      expect(page.total).toBe(3);
      expect(page.items).toHaveLength(1);
      const everything = await list(manager.token, 'limit=100');
      expect(everything.total).toBe(3);
      expect(everything.items.every((u) => u.departmentId === deptA)).toBe(true);
      expect(everything.items.map((u) => u.id)).toContain(manager.user.id);
      expect(await list(manager.token, 'q=qz7')).toMatchObject({ items: [], total: 0 });

      const outsider = await createUser(t, { departmentId: deptB });
      const hidden = await api('GET', `/api/v1/users/${outsider.id}`, manager.token);
      expect(hidden.statusCode).toBe(404);
      expect((await api('GET', `/api/v1/users/${NO_SUCH_ID}`, manager.token)).json().detail).toBe(hidden.json().detail);
      expect((await api('GET', `/api/v1/users/${everything.items[0].id}`, manager.token)).statusCode).toBe(200);
      // Reading is all a manager may do with users.
      expect((await api('PATCH', `/api/v1/users/${everything.items[0].id}`, manager.token, { displayName: 'Renamed' })).statusCode).toBe(403);
      expect((await api('POST', '/api/v1/users', manager.token, { email: uniqueEmail(), displayName: 'New', departmentId: deptA })).statusCode).toBe(403);
      // A manager without a department reads nobody (not "users without a department"): the
      // department-bound rules are dropped, so there is no User rule at all.
      const homeless = await signIn(['manager'], null);
      expect((await api('GET', '/api/v1/users', homeless.token)).statusCode).toBe(403);
    });

    it('8.2.1: a viewer may not list users (403); without credentials 401', async () => {
      const viewer = await signIn(['viewer'], deptA);
      expect((await api('GET', '/api/v1/users', viewer.token)).statusCode).toBe(403);
      const anonymous = await t.app.inject({ method: 'GET', url: '/api/v1/users' });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.headers['www-authenticate']).toBe('Bearer');
    });
  });

  describe('POST /users', () => {
    it('8.2.1: with a password: 201 active, verified, with roles and department; the user can sign in; audited without the password', async () => {
      const email = uniqueEmail('provisioned');
      const before = await userCount();
      const res = await api('POST', '/api/v1/users', adminToken, { email, displayName: 'Provisioned', roles: ['editor', 'viewer'], departmentId: deptA, password: STRONG_PASSWORD });
      expect(res.statusCode).toBe(201);
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(USER_KEYS);
      expect(body).toEqual({
        id: expect.any(String),
        email,
        displayName: 'Provisioned',
        emailVerified: true,
        status: 'active',
        roles: ['editor', 'viewer'],
        departmentId: deptA,
        mfaEnabled: false,
        createdAt: expect.stringMatching(ISO_UTC),
        updatedAt: expect.stringMatching(ISO_UTC),
      });
      expect(await userCount()).toBe(before + 1);
      expect((await api('GET', `/api/v1/users/${body.id}`, adminToken)).json()).toEqual(body);
      const signedIn = await login(t, email, STRONG_PASSWORD);
      expect(signedIn.statusCode).toBe(200);
      expect((await whoami(signedIn.json().accessToken)).json()).toMatchObject({ userId: body.id, roles: ['editor', 'viewer'], departmentId: deptA });

      const [event] = await auditOf(body.id);
      expect(event).toMatchObject({ type: 'user.created', actor_id: admin.id, details: { email, roles: ['editor', 'viewer'], departmentId: deptA } });
      expect(JSON.stringify(event.details)).not.toContain(STRONG_PASSWORD);
    });

    it('8.2.1: roles default to viewer; the email is normalised to lower case', async () => {
      const email = uniqueEmail('Defaulted').replace('defaulted', 'Defaulted');
      const res = await api('POST', '/api/v1/users', adminToken, { email: email.toUpperCase(), displayName: 'Defaults', password: STRONG_PASSWORD });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ email: email.toLowerCase(), roles: ['viewer'], departmentId: null, status: 'active', emailVerified: true });
    });

    it('8.2.1: without a password a set-password mail arrives; its token works at POST /auth/password/reset', async () => {
      const email = uniqueEmail('invited');
      const res = await api('POST', '/api/v1/users', adminToken, { email, displayName: 'Invited', roles: ['viewer'] });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ email, status: 'active', emailVerified: true });
      const [row] = await em(t).execute('SELECT password_hash FROM users WHERE id = ?', [res.json().id]);
      expect(row.password_hash).toBeNull();
      expect((await login(t, email, STRONG_PASSWORD)).statusCode).toBe(401);

      const mail = await sink.waitFor((m) => m.to.includes(email));
      expect(mail.subject).toBe('Set your password');
      const token = extractToken(mail, '/reset-password');
      const reset = await t.app.inject({ method: 'POST', url: '/api/v1/auth/password/reset', payload: { token, newPassword: NEW_PASSWORD } });
      expect(reset.statusCode).toBe(204);
      const signedIn = await login(t, email, NEW_PASSWORD);
      expect(signedIn.statusCode).toBe(200);
      expect((await whoami(signedIn.json().accessToken)).json()).toMatchObject({ userId: res.json().id, roles: ['viewer'] });
      // Single use.
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/password/reset', payload: { token, newPassword: 'another fresh passphrase' } })).statusCode).toBe(400);
      // A user provisioned with a password gets no mail.
      const withPassword = await provision({ email: uniqueEmail('nomail'), displayName: 'No Mail' });
      await new Promise((r) => setTimeout(r, 300));
      expect(sink.messages.filter((m) => m.to.includes(withPassword.email))).toEqual([]);
    });

    it('8.2.1: duplicate email (any case) → 409; unknown role → 400 roles; unknown departmentId → 400 departmentId; nothing created', async () => {
      const existing = await provision({ email: uniqueEmail('taken'), displayName: 'Taken' });
      const before = await userCount();
      const duplicate = await api('POST', '/api/v1/users', adminToken, { email: existing.email.toUpperCase(), displayName: 'Again', password: STRONG_PASSWORD });
      expect(duplicate.statusCode).toBe(409);
      expect(duplicate.headers['content-type']).toMatch(PROBLEM_JSON);
      expectValidation(await api('POST', '/api/v1/users', adminToken, { email: uniqueEmail(), displayName: 'X', roles: ['viewer', 'wizard'] }), 'roles');
      expectValidation(await api('POST', '/api/v1/users', adminToken, { email: uniqueEmail(), displayName: 'X', departmentId: NO_SUCH_ID }), 'departmentId');
      expectValidation(await api('POST', '/api/v1/users', adminToken, { email: 'not-an-email', displayName: 'X' }), 'email');
      expectValidation(await api('POST', '/api/v1/users', adminToken, { email: uniqueEmail(), displayName: 'X', status: 'active' }), 'status');
      expectValidation(await api('POST', '/api/v1/users', adminToken, { email: uniqueEmail(), displayName: 'X', password: 'password' }), 'password');
      expect(await userCount()).toBe(before);
    });
  });

  describe('GET /users/:id', () => {
    it('8.2.2: 200 for a readable user; 404 for an unknown one; 400 for a malformed id; 403 without read on User', async () => {
      const someone = await provision({ email: uniqueEmail('someone'), displayName: 'Someone', departmentId: deptB });
      const res = await api('GET', `/api/v1/users/${someone.id}`, adminToken);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(someone);
      expect((await api('GET', `/api/v1/users/${NO_SUCH_ID}`, adminToken)).statusCode).toBe(404);
      expectValidation(await api('GET', '/api/v1/users/nope', adminToken), 'id');
      const viewer = await signIn(['viewer'], deptB);
      expect((await api('GET', `/api/v1/users/${someone.id}`, viewer.token)).statusCode).toBe(403);
    });
  });

  describe('PATCH /users/:id', () => {
    it('8.3.2: displayName, roles and departmentId change; roles take effect on the user\'s very next request without re-login', async () => {
      const { user, token } = await signIn(['viewer'], deptA);
      expect((await whoami(token)).json()).toMatchObject({ roles: ['viewer'], departmentId: deptA });
      expect((await api('GET', '/api/v1/users', token)).statusCode).toBe(403);

      const res = await api('PATCH', `/api/v1/users/${user.id}`, adminToken, { displayName: '  Promoted  ', roles: ['manager'], departmentId: deptB });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: user.id, displayName: 'Promoted', roles: ['manager'], departmentId: deptB });
      expect(Object.keys(res.json()).sort()).toEqual(USER_KEYS);

      expect((await whoami(token)).json()).toMatchObject({ roles: ['manager'], departmentId: deptB });
      const now = await list(token, 'limit=100');
      expect(now.items.every((u) => u.departmentId === deptB)).toBe(true);
      expect(now.items.map((u) => u.id)).toContain(user.id);

      const back = await api('PATCH', `/api/v1/users/${user.id}`, adminToken, { roles: [] });
      expect(back.json()).toMatchObject({ roles: [] });
      expect((await whoami(token)).json()).toMatchObject({ roles: [] });
      expect((await api('GET', '/api/v1/users', token)).statusCode).toBe(403);

      const cleared = await api('PATCH', `/api/v1/users/${user.id}`, adminToken, { departmentId: null });
      expect(cleared.json()).toMatchObject({ departmentId: null });
      expectValidation(await api('PATCH', `/api/v1/users/${user.id}`, adminToken, { roles: ['ghost'] }), 'roles');
      expectValidation(await api('PATCH', `/api/v1/users/${user.id}`, adminToken, { departmentId: NO_SUCH_ID }), 'departmentId');
      expectValidation(await api('PATCH', `/api/v1/users/${user.id}`, adminToken, { email: 'new@example.com' }), 'email');
      expect((await api('GET', `/api/v1/users/${user.id}`, adminToken)).json()).toMatchObject({ roles: [], departmentId: null, email: user.email });
      expect((await api('PATCH', `/api/v1/users/${NO_SUCH_ID}`, adminToken, { displayName: 'Ghost' })).statusCode).toBe(404);
    });

    it('7.4.2: disabling ends the user\'s sessions at once: the access token is refused and login answers 403 account-disabled', async () => {
      const { user, token } = await signIn(['viewer']);
      const { refreshToken } = await loginTokens(t, user);
      expect((await whoami(token)).statusCode).toBe(200);
      const res = await api('PATCH', `/api/v1/users/${user.id}`, adminToken, { status: 'disabled' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: 'disabled' });
      expect((await whoami(token)).statusCode).toBe(401);
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken } })).statusCode).toBe(401);
      const refused = await login(t, user.email, user.password);
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ type: 'urn:bastion:problem:account-disabled', status: 403 });
      const [{ live }] = await em(t).execute('SELECT count(*)::int AS live FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [user.id]);
      expect(live).toBe(0);
      // Enabling again lets them sign in anew; the old token stays dead.
      expect((await api('PATCH', `/api/v1/users/${user.id}`, adminToken, { status: 'active' })).statusCode).toBe(200);
      expect((await login(t, user.email, user.password)).statusCode).toBe(200);
      expect((await whoami(token)).statusCode).toBe(401);
    });

    it('8.2.1: an admin cannot change their own roles, status or department (403), nor delete themselves; nothing changes', async () => {
      const self = await signIn(['admin'], deptA);
      const before = (await api('GET', `/api/v1/users/${self.user.id}`, adminToken)).json();
      for (const change of [{ roles: ['viewer'] }, { status: 'disabled' }, { departmentId: deptB }, { departmentId: null }, { displayName: 'Me', roles: ['admin', 'editor'] }]) {
        const res = await api('PATCH', `/api/v1/users/${self.user.id}`, self.token, change);
        expect(res.statusCode).toBe(403);
        expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      }
      const deleted = await api('DELETE', `/api/v1/users/${self.user.id}`, self.token);
      expect(deleted.statusCode).toBe(403);
      expect((await api('GET', `/api/v1/users/${self.user.id}`, adminToken)).json()).toEqual(before);
      expect((await whoami(self.token)).statusCode).toBe(200);
      // Their own display name is fine.
      expect((await api('PATCH', `/api/v1/users/${self.user.id}`, self.token, { displayName: 'Self Renamed' })).json()).toMatchObject({ displayName: 'Self Renamed', roles: ['admin'] });
    });

    it('8.2.3: a role with update on User field displayName may rename, but changing roles or status is 403 naming the field', async () => {
      const role = await api('POST', '/api/v1/roles', adminToken, {
        name: 'user-renamer',
        permissions: [
          { action: 'read', subject: 'User' },
          { action: 'update', subject: 'User', fields: ['displayName'] },
        ],
      });
      expect(role.statusCode).toBe(201);
      const renamer = await signIn(['user-renamer']);
      const target = await provision({ email: uniqueEmail('target'), displayName: 'Target', roles: ['viewer'] });

      const renamed = await api('PATCH', `/api/v1/users/${target.id}`, renamer.token, { displayName: 'Renamed Target' });
      expect(renamed.statusCode).toBe(200);
      expect(renamed.json()).toMatchObject({ displayName: 'Renamed Target', roles: ['viewer'] });

      const roles = await api('PATCH', `/api/v1/users/${target.id}`, renamer.token, { roles: ['admin'] });
      expect(roles.statusCode).toBe(403);
      expect(roles.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(roles.json().errors.map((e: { field: string }) => e.field)).toEqual(['roles']);
      const mixed = await api('PATCH', `/api/v1/users/${target.id}`, renamer.token, { displayName: 'Sneaky', roles: ['admin'] });
      expect(mixed.statusCode).toBe(403);
      expect(mixed.json().errors.map((e: { field: string }) => e.field)).toEqual(['roles']);
      const status = await api('PATCH', `/api/v1/users/${target.id}`, renamer.token, { status: 'disabled' });
      expect(status.statusCode).toBe(403);
      expect(status.json().errors.map((e: { field: string }) => e.field)).toEqual(['status']);
      expect((await api('DELETE', `/api/v1/users/${target.id}`, renamer.token)).statusCode).toBe(403);
      // Ending a lockout or removing a second factor is not renaming.
      const unlock = await api('POST', `/api/v1/users/${target.id}/unlock`, renamer.token);
      expect(unlock.statusCode).toBe(403);
      expect(unlock.json().errors.map((e: { field: string }) => e.field)).toEqual(['status']);
      const mfaReset = await api('POST', `/api/v1/users/${target.id}/mfa/reset`, renamer.token);
      expect(mfaReset.statusCode).toBe(403);
      expect(mfaReset.json().errors.map((e: { field: string }) => e.field)).toEqual(['mfaEnabled']);
      // Nothing of the refused changes was applied (not even the display name sent along).
      expect((await api('GET', `/api/v1/users/${target.id}`, adminToken)).json()).toMatchObject({ displayName: 'Renamed Target', roles: ['viewer'], status: 'active' });
      const [denied] = await em(t).execute(
        `SELECT details FROM audit_events WHERE type = 'access.denied' AND actor_id = ? AND target_id = ? ORDER BY at LIMIT 1`,
        [renamer.user.id, target.id],
      );
      expect(denied.details).toMatchObject({ action: 'update', subject: 'User', reason: 'fields: roles' });
    });
  });

  describe('DELETE /users/:id', () => {
    it('7.4.2: 204 soft delete: then 404, gone from the list, login 401, every session revoked; audited', async () => {
      const victim = await createUser(t, { roles: ['viewer'] });
      const first = await loginTokens(t, victim);
      const second = await loginTokens(t, victim);
      const res = await api('DELETE', `/api/v1/users/${victim.id}`, adminToken);
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');

      expect((await api('GET', `/api/v1/users/${victim.id}`, adminToken)).statusCode).toBe(404);
      expect(await list(adminToken, `q=${encodeURIComponent(victim.email)}`)).toMatchObject({ items: [], total: 0 });
      for (const pair of [first, second]) {
        expect((await whoami(pair.accessToken)).statusCode).toBe(401);
        expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: pair.refreshToken } })).statusCode).toBe(401);
      }
      const relogin = await login(t, victim.email, victim.password);
      expect(relogin.statusCode).toBe(401);
      expect(relogin.json()).toMatchObject({ title: 'Invalid credentials' });

      const [row] = await em(t).execute('SELECT deleted_at FROM users WHERE id = ?', [victim.id]);
      expect(row.deleted_at).not.toBeNull();
      const [{ live }] = await em(t).execute('SELECT count(*)::int AS live FROM sessions WHERE user_id = ? AND revoked_at IS NULL', [victim.id]);
      expect(live).toBe(0);
      expect((await api('DELETE', `/api/v1/users/${victim.id}`, adminToken)).statusCode).toBe(404);
      expect((await api('PATCH', `/api/v1/users/${victim.id}`, adminToken, { status: 'active' })).statusCode).toBe(404);
      expect((await auditOf(victim.id)).map((e) => e.type)).toContain('user.deleted');
    });

    it('8.2.1: a viewer or a manager may not delete users (403), and the user stays', async () => {
      const target = await createUser(t, { departmentId: deptA });
      for (const roles of [['viewer'], ['manager']]) {
        const { token } = await signIn(roles, deptA);
        expect((await api('DELETE', `/api/v1/users/${target.id}`, token)).statusCode).toBe(403);
      }
      expect((await api('GET', `/api/v1/users/${target.id}`, adminToken)).statusCode).toBe(200);
    });
  });

  describe('POST /users/:id/unlock', () => {
    it('6.1.1: clears a lockout at once: 5 bad logins lock the account, unlock → 204, the right password works again', async () => {
      const user = await createUser(t);
      for (let i = 0; i < 5; i++) expect((await login(t, user.email, 'wrong password attempt')).statusCode).toBe(401);
      expect((await login(t, user.email, user.password)).statusCode).toBe(401);
      const [locked] = await em(t).execute('SELECT locked_until FROM users WHERE id = ?', [user.id]);
      expect(new Date(locked.locked_until).getTime()).toBeGreaterThan(Date.now());

      const res = await api('POST', `/api/v1/users/${user.id}/unlock`, adminToken);
      expect(res.statusCode).toBe(204);
      const [row] = await em(t).execute('SELECT locked_until, failed_login_count, lock_count FROM users WHERE id = ?', [user.id]);
      expect(row).toEqual({ locked_until: null, failed_login_count: 0, lock_count: 0 });
      expect((await login(t, user.email, user.password)).statusCode).toBe(200);
      expect((await api('POST', `/api/v1/users/${NO_SUCH_ID}/unlock`, adminToken)).statusCode).toBe(404);
      expect((await auditOf(user.id)).some((e) => e.type === 'user.updated' && e.details.unlocked === true && e.actor_id === admin.id)).toBe(true);
    });

    it('8.2.3: a helpdesk role with update on User field status may unlock; a viewer may not (403)', async () => {
      const role = await api('POST', '/api/v1/roles', adminToken, {
        name: 'helpdesk',
        permissions: [
          { action: 'read', subject: 'User' },
          { action: 'update', subject: 'User', fields: ['status'] },
        ],
      });
      expect(role.statusCode).toBe(201);
      const helpdesk = await signIn(['helpdesk']);
      const viewer = await signIn(['viewer']);
      const user = await createUser(t);
      for (let i = 0; i < 5; i++) await login(t, user.email, 'wrong password attempt');
      expect((await login(t, user.email, user.password)).statusCode).toBe(401);
      expect((await api('POST', `/api/v1/users/${user.id}/unlock`, viewer.token)).statusCode).toBe(403);
      expect((await api('POST', `/api/v1/users/${user.id}/unlock`, helpdesk.token)).statusCode).toBe(204);
      expect((await login(t, user.email, user.password)).statusCode).toBe(200);
    });
  });

  describe('GET/DELETE /users/:id/sessions', () => {
    it('7.4.2: an admin lists a user\'s live sessions and ends one (its token is refused); another user\'s session id → 404', async () => {
      const user = await createUser(t);
      const first = await loginTokens(t, user);
      const second = await loginTokens(t, user);
      const res = await api('GET', `/api/v1/users/${user.id}/sessions`, adminToken);
      expect(res.statusCode).toBe(200);
      const sessions: { id: string }[] = res.json();
      expect(sessions.map((s) => s.id).sort()).toEqual([sidOf(first.accessToken), sidOf(second.accessToken)].sort());
      for (const s of sessions) {
        expect(s).toEqual({ id: expect.any(String), createdAt: expect.stringMatching(ISO_UTC), lastUsedAt: expect.stringMatching(ISO_UTC), ip: expect.anything(), userAgent: expect.anything(), amr: ['pwd'], current: false });
      }
      expect(res.body).not.toMatch(/refresh|secret|hash/i);

      const end = await api('DELETE', `/api/v1/users/${user.id}/sessions/${sidOf(first.accessToken)}`, adminToken);
      expect(end.statusCode).toBe(204);
      expect((await whoami(first.accessToken)).statusCode).toBe(401);
      expect((await whoami(second.accessToken)).statusCode).toBe(200);
      expect((await api('GET', `/api/v1/users/${user.id}/sessions`, adminToken)).json().map((s: { id: string }) => s.id)).toEqual([sidOf(second.accessToken)]);
      expect((await api('DELETE', `/api/v1/users/${user.id}/sessions/${sidOf(first.accessToken)}`, adminToken)).statusCode).toBe(404);

      // The admin's own session, addressed under another user: 404, and it keeps working.
      const mismatched = await api('DELETE', `/api/v1/users/${user.id}/sessions/${sidOf(adminToken)}`, adminToken);
      expect(mismatched.statusCode).toBe(404);
      expect((await whoami(adminToken)).statusCode).toBe(200);
      const otherUser = await createUser(t);
      const otherPair = await loginTokens(t, otherUser);
      expect((await api('DELETE', `/api/v1/users/${user.id}/sessions/${sidOf(otherPair.accessToken)}`, adminToken)).statusCode).toBe(404);
      expect((await whoami(otherPair.accessToken)).statusCode).toBe(200);
      expect((await api('DELETE', `/api/v1/users/${user.id}/sessions/${NO_SUCH_ID}`, adminToken)).statusCode).toBe(404);
      expect((await api('GET', `/api/v1/users/${NO_SUCH_ID}/sessions`, adminToken)).statusCode).toBe(404);
      expectValidation(await api('DELETE', `/api/v1/users/${user.id}/sessions/not-a-uuid`, adminToken), 'sid');
    });

    it('8.2.1: without read/delete on Session (viewer, manager of the same department) → 403', async () => {
      const user = await createUser(t, { departmentId: deptA });
      const pair = await loginTokens(t, user);
      for (const roles of [['viewer'], ['manager']]) {
        const { token } = await signIn(roles, deptA);
        expect((await api('GET', `/api/v1/users/${user.id}/sessions`, token)).statusCode).toBe(403);
        expect((await api('DELETE', `/api/v1/users/${user.id}/sessions/${sidOf(pair.accessToken)}`, token)).statusCode).toBe(403);
      }
      expect((await whoami(pair.accessToken)).statusCode).toBe(200);
    });

    it('8.2.2: session rules are evaluated per session: "delete Session {userId: me}" ends only the caller\'s own sessions; unreadable sessions are not listed and 404', async () => {
      const ME = '${user.id}';
      for (const [name, readSessions] of [
        ['session-self', { action: 'read', subject: 'Session', conditions: { userId: ME } }],
        ['session-reader', { action: 'read', subject: 'Session' }],
      ] as const) {
        const res = await api('POST', '/api/v1/roles', adminToken, {
          name,
          permissions: [{ action: 'read', subject: 'User' }, readSessions, { action: 'delete', subject: 'Session', conditions: { userId: ME } }],
        });
        expect(res.statusCode).toBe(201);
      }
      const self = await createUser(t, { roles: ['session-self'] });
      const selfFirst = (await loginTokens(t, self)).accessToken;
      const selfSecond = (await loginTokens(t, self)).accessToken;
      const reader = await signIn(['session-reader']);
      const other = await createUser(t);
      const otherToken = (await loginTokens(t, other)).accessToken;

      // The list is filtered by the read rule: another user's sessions are simply not there.
      const ownList = await api('GET', `/api/v1/users/${self.id}/sessions`, selfFirst);
      expect(ownList.statusCode).toBe(200);
      expect(ownList.json().map((s: { id: string }) => s.id).sort()).toEqual([sidOf(selfFirst), sidOf(selfSecond)].sort());
      const otherList = await api('GET', `/api/v1/users/${other.id}/sessions`, selfFirst);
      expect(otherList.statusCode).toBe(200);
      expect(otherList.json()).toEqual([]);
      expect((await api('GET', `/api/v1/users/${other.id}/sessions`, reader.token)).json().map((s: { id: string }) => s.id)).toEqual([sidOf(otherToken)]);

      // Another user's session: unreadable → 404; readable but not deletable → 403. It keeps working.
      const unreadable = await api('DELETE', `/api/v1/users/${other.id}/sessions/${sidOf(otherToken)}`, selfFirst);
      expect(unreadable.statusCode).toBe(404);
      expect(unreadable.headers['content-type']).toMatch(PROBLEM_JSON);
      const refused = await api('DELETE', `/api/v1/users/${other.id}/sessions/${sidOf(otherToken)}`, reader.token);
      expect(refused.statusCode).toBe(403);
      expect((await whoami(otherToken)).statusCode).toBe(200);
      const [denied] = await em(t).execute(`SELECT details FROM audit_events WHERE type = 'access.denied' AND actor_id = ? AND target_id = ?`, [reader.user.id, sidOf(otherToken)]);
      expect(denied.details).toMatchObject({ action: 'delete', subject: 'Session' });

      // Its own session: ended.
      expect((await api('DELETE', `/api/v1/users/${self.id}/sessions/${sidOf(selfSecond)}`, selfFirst)).statusCode).toBe(204);
      expect((await whoami(selfSecond)).statusCode).toBe(401);
      expect((await whoami(selfFirst)).statusCode).toBe(200);
    });
  });

  describe('audit trail', () => {
    it('16.3.1: user.created, user.updated and user.deleted rows name the admin and the changed fields, never a secret', async () => {
      const created = await provision({ email: uniqueEmail('audited'), displayName: 'Audited', roles: ['viewer'] });
      await api('PATCH', `/api/v1/users/${created.id}`, adminToken, { displayName: 'Audited Again', roles: ['editor'], departmentId: deptA });
      await api('DELETE', `/api/v1/users/${created.id}`, adminToken);
      const events = await auditOf(created.id);
      expect(events.map((e) => e.type)).toEqual(['user.created', 'user.updated', 'user.deleted']);
      expect(events.every((e) => e.actor_id === admin.id)).toBe(true);
      expect(events[0].details).toMatchObject({ email: created.email, roles: ['viewer'] });
      expect(events[1].details).toMatchObject({ fields: expect.arrayContaining(['displayName', 'roles', 'departmentId']), roles: ['editor'], departmentId: deptA });
      expect(JSON.stringify(events)).not.toMatch(/correct horse|argon2|password_hash/i);
    });
  });
});
