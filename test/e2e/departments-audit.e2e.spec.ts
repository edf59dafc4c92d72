import { Client } from 'pg';
import type { AuditEventView } from '../../src/audit/audit-query.service';
import { bearer, createUser, em, loginTokens } from '../support/auth-helpers';
import { expectProblem, expectValidation } from '../support/problem-assertions';
import { createTestApp, type TestApp } from '../support/test-app';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const AUDIT_FIELDS = ['actorId', 'at', 'details', 'id', 'ip', 'outcome', 'requestId', 'targetId', 'targetType', 'type', 'userAgent'];
const MISSING_ID = '5a0c1f3e-0000-4000-8000-0000000000aa';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('departments and the audit log (ASVS 8.2.1, 8.2.2, 8.4.1, 16.3.2, 16.4.2)', () => {
  let t: TestApp;
  const tok = {} as Record<'admin' | 'manager' | 'editor' | 'peer' | 'viewer', string>;
  const ids = {} as Record<'admin' | 'manager' | 'editor' | 'peer' | 'viewer', string>;
  let alpha: string;
  let beta: string;

  const call = (token: string | null, method: Method, url: string, payload?: object, headers: Record<string, string> = {}) =>
    t.app.inject({ method, url, headers: { ...(token ? bearer(token) : {}), ...headers }, ...(payload ? { payload } : {}) });

  const events = async (query: string): Promise<{ items: AuditEventView[]; total: number; limit: number; offset: number }> => {
    const res = await call(tok.admin, 'GET', `/api/v1/audit-events?${query}`);
    expect(res.statusCode).toBe(200);
    return res.json();
  };

  const createDocument = async (token: string, payload: object) => {
    const res = await call(token, 'POST', '/api/v1/documents', payload);
    expect(res.statusCode).toBe(201);
    return res.json() as { id: string; version: number; title: string };
  };

  beforeAll(async () => {
    t = await createTestApp();
    const admin = await createUser(t, { roles: ['admin'] });
    ids.admin = admin.id;
    tok.admin = (await loginTokens(t, admin)).accessToken;
    alpha = (await call(tok.admin, 'POST', '/api/v1/departments', { name: 'Alpha' })).json().id;
    beta = (await call(tok.admin, 'POST', '/api/v1/departments', { name: 'Beta' })).json().id;
    for (const [who, role] of [['manager', 'manager'], ['editor', 'editor'], ['peer', 'editor'], ['viewer', 'viewer']] as const) {
      const user = await createUser(t, { roles: [role], departmentId: alpha });
      ids[who] = user.id;
      tok[who] = (await loginTokens(t, user)).accessToken;
    }
  });
  afterAll(() => t.close());

  describe('departments', () => {
    it('admin creates a department → 201 {id, name, createdAt}, the name trimmed', async () => {
      const res = await call(tok.admin, 'POST', '/api/v1/departments', { name: '  Gamma  ' });
      expect(res.statusCode).toBe(201);
      expect(Object.keys(res.json()).sort()).toEqual(['createdAt', 'id', 'name']);
      expect(res.json()).toMatchObject({ name: 'Gamma' });
      expect((await call(tok.admin, 'GET', `/api/v1/departments/${res.json().id}`)).json()).toEqual(res.json());
    });

    it('a duplicate name → 409 (also after trimming); nothing is created', async () => {
      expectProblem(await call(tok.admin, 'POST', '/api/v1/departments', { name: 'Alpha' }), 409);
      expectProblem(await call(tok.admin, 'POST', '/api/v1/departments', { name: ' Alpha ' }), 409);
      const rows = await em(t).execute("SELECT count(*)::int AS n FROM departments WHERE name = 'Alpha'");
      expect(rows[0].n).toBe(1);
    });

    it('bad input → 400: empty, blank, 101 characters, wrong type, unknown field; a non-UUID id', async () => {
      expectValidation(await call(tok.admin, 'POST', '/api/v1/departments', { name: '' }), 'name');
      expectValidation(await call(tok.admin, 'POST', '/api/v1/departments', { name: '   ' }), 'name');
      expectValidation(await call(tok.admin, 'POST', '/api/v1/departments', { name: 'd'.repeat(101) }), 'name');
      expectValidation(await call(tok.admin, 'POST', '/api/v1/departments', { name: 7 }), 'name');
      expectValidation(await call(tok.admin, 'POST', '/api/v1/departments', { name: 'Nul\u0000dept' }), 'name');
      expectValidation(await call(tok.admin, 'POST', '/api/v1/departments', { name: null }), 'name');
      expectValidation(await call(tok.admin, 'POST', '/api/v1/departments', { name: 'Delta', id: MISSING_ID }), 'id');
      expectValidation(await call(tok.admin, 'GET', '/api/v1/departments/alpha'), 'id');
      expectValidation(await call(tok.admin, 'PATCH', '/api/v1/departments/alpha', { name: 'x' }), 'id');
      expectValidation(await call(tok.admin, 'DELETE', '/api/v1/departments/alpha'), 'id');
      expectValidation(await call(tok.admin, 'GET', '/api/v1/departments?limit=0'), 'limit');
      expect((await call(tok.admin, 'POST', '/api/v1/departments', { name: 'd'.repeat(100) })).statusCode).toBe(201);
    });

    it('admin lists all departments by name with total and paging; an unknown id → 404', async () => {
      const all = (await call(tok.admin, 'GET', '/api/v1/departments?limit=100')).json();
      const names = all.items.map((d: { name: string }) => d.name);
      expect(names).toEqual(expect.arrayContaining(['Alpha', 'Beta', 'Gamma']));
      expect(names).toEqual([...names].sort());
      const rows = await em(t).execute('SELECT count(*)::int AS n FROM departments');
      expect(all.total).toBe(rows[0].n);
      const second = (await call(tok.admin, 'GET', '/api/v1/departments?limit=1&offset=1')).json();
      expect(second).toMatchObject({ total: all.total, limit: 1, offset: 1 });
      expect(second.items.map((d: { id: string }) => d.id)).toEqual([all.items[1].id]);
      expectProblem(await call(tok.admin, 'GET', `/api/v1/departments/${MISSING_ID}`), 404);
    });

    it('rename → 200; renaming onto an existing name → 409 and nothing changes', async () => {
      const dept = (await call(tok.admin, 'POST', '/api/v1/departments', { name: 'Epsilon' })).json();
      const renamed = await call(tok.admin, 'PATCH', `/api/v1/departments/${dept.id}`, { name: 'Epsilon 2' });
      expect(renamed.statusCode).toBe(200);
      expect(renamed.json()).toEqual({ ...dept, name: 'Epsilon 2' });
      expectProblem(await call(tok.admin, 'PATCH', `/api/v1/departments/${dept.id}`, { name: 'Beta' }), 409);
      expect((await call(tok.admin, 'GET', `/api/v1/departments/${dept.id}`)).json()).toMatchObject({ name: 'Epsilon 2' });
      expect((await call(tok.admin, 'GET', `/api/v1/departments/${beta}`)).json()).toMatchObject({ name: 'Beta' });
    });

    it('delete: an empty department → 204 then 404; one with documents → 409 until they are gone', async () => {
      const empty = (await call(tok.admin, 'POST', '/api/v1/departments', { name: 'Zeta' })).json();
      expect((await call(tok.admin, 'DELETE', `/api/v1/departments/${empty.id}`)).statusCode).toBe(204);
      expectProblem(await call(tok.admin, 'GET', `/api/v1/departments/${empty.id}`), 404);
      expectProblem(await call(tok.admin, 'DELETE', `/api/v1/departments/${empty.id}`), 404);

      const busy = (await call(tok.admin, 'POST', '/api/v1/departments', { name: 'Eta' })).json();
      const doc = await createDocument(tok.admin, { title: 'Keeps Eta alive', body: 'b', departmentId: busy.id });
      const refused = await call(tok.admin, 'DELETE', `/api/v1/departments/${busy.id}`);
      expectProblem(refused, 409);
      expect((await call(tok.admin, 'GET', `/api/v1/departments/${busy.id}`)).statusCode).toBe(200);
      expect((await call(tok.admin, 'GET', `/api/v1/documents/${doc.id}`)).statusCode).toBe(200);
      expect((await call(tok.admin, 'DELETE', `/api/v1/documents/${doc.id}`)).statusCode).toBe(204);
      expect((await call(tok.admin, 'DELETE', `/api/v1/departments/${busy.id}`)).statusCode).toBe(204);
    });

    it('8.3.2 deleting a department takes its members out of it at once: whoami and the user record agree within 1 s', async () => {
      const theta = (await call(tok.admin, 'POST', '/api/v1/departments', { name: 'Theta' })).json();
      const member = await createUser(t, { roles: ['manager'], departmentId: theta.id });
      const memberToken = (await loginTokens(t, member)).accessToken;
      expect((await call(memberToken, 'GET', '/api/v1/auth/whoami')).json().departmentId).toBe(theta.id);
      expect((await call(tok.admin, 'DELETE', `/api/v1/departments/${theta.id}`)).statusCode).toBe(204);
      expect((await call(tok.admin, 'GET', `/api/v1/users/${member.id}`)).json().departmentId).toBeNull();
      let seen: unknown = theta.id;
      for (let i = 0; i < 20 && seen !== null; i += 1) {
        await sleep(50);
        seen = (await call(memberToken, 'GET', '/api/v1/auth/whoami')).json().departmentId;
      }
      expect(seen).toBeNull();
      // …and the former member's department-scoped rules are gone with it.
      expectProblem(await call(memberToken, 'POST', '/api/v1/documents', { title: 'Homeless', body: 'b' }), 403);
    });

    it('a department that still has documents keeps its members when the delete is refused', async () => {
      const iota = (await call(tok.admin, 'POST', '/api/v1/departments', { name: 'Iota' })).json();
      const member = await createUser(t, { roles: ['viewer'], departmentId: iota.id });
      await createDocument(tok.admin, { title: 'Keeps Iota alive', body: 'b', departmentId: iota.id });
      expectProblem(await call(tok.admin, 'DELETE', `/api/v1/departments/${iota.id}`), 409);
      expect((await call(tok.admin, 'GET', `/api/v1/users/${member.id}`)).json().departmentId).toBe(iota.id);
    });

    it('8.4.1 a viewer reads only its own department: the list holds it alone, the other is 404', async () => {
      const list = await call(tok.viewer, 'GET', '/api/v1/departments');
      expect(list.statusCode).toBe(200);
      expect(list.json()).toMatchObject({ total: 1, items: [{ id: alpha, name: 'Alpha' }] });
      expect((await call(tok.viewer, 'GET', `/api/v1/departments/${alpha}`)).json()).toMatchObject({ id: alpha, name: 'Alpha' });
      const other = await call(tok.viewer, 'GET', `/api/v1/departments/${beta}`);
      expectProblem(other, 404);
      expect(other.body).not.toContain('Beta');
      // The answer for another department is the answer for no department at all.
      const missing = await call(tok.viewer, 'GET', `/api/v1/departments/${MISSING_ID}`);
      expect({ ...other.json(), instance: undefined }).toEqual({ ...missing.json(), instance: undefined });
    });

    it('8.4.1 a manager reads only its own department', async () => {
      const list = (await call(tok.manager, 'GET', '/api/v1/departments?limit=100')).json();
      expect(list).toMatchObject({ total: 1, items: [{ id: alpha }] });
      expect((await call(tok.manager, 'GET', `/api/v1/departments/${alpha}`)).statusCode).toBe(200);
      expectProblem(await call(tok.manager, 'GET', `/api/v1/departments/${beta}`), 404);
    });

    it('8.2.1 only admin changes departments: viewer and manager get 403 on create, rename and delete; editor may not even read them', async () => {
      for (const who of ['viewer', 'manager'] as const) {
        expectProblem(await call(tok[who], 'POST', '/api/v1/departments', { name: `By ${who}` }), 403);
        expectProblem(await call(tok[who], 'PATCH', `/api/v1/departments/${alpha}`, { name: `Renamed by ${who}` }), 403);
        expectProblem(await call(tok[who], 'DELETE', `/api/v1/departments/${alpha}`), 403);
      }
      // API.md gives the editor no rule on Department at all.
      expectProblem(await call(tok.editor, 'GET', '/api/v1/departments'), 403);
      expectProblem(await call(tok.editor, 'GET', `/api/v1/departments/${alpha}`), 403);
      expect((await call(tok.admin, 'GET', `/api/v1/departments/${alpha}`)).json()).toMatchObject({ name: 'Alpha' });
      const rows = await em(t).execute("SELECT count(*)::int AS n FROM departments WHERE name LIKE 'By %'");
      expect(rows[0].n).toBe(0);
    });
  });

  describe('audit log: reading', () => {
    it('8.2.1 needs read on AuditEvent: viewer, editor and manager → 403; no credentials → 401', async () => {
      for (const who of ['viewer', 'editor', 'manager'] as const) expectProblem(await call(tok[who], 'GET', '/api/v1/audit-events'), 403);
      expectProblem(await call(null, 'GET', '/api/v1/audit-events'), 401);
    });

    it('8.2.1 a custom role with read on AuditEvent may read the log (the decision is the policy, not a role name)', async () => {
      const role = await call(tok.admin, 'POST', '/api/v1/roles', { name: 'auditor', permissions: [{ action: 'read', subject: 'AuditEvent' }] });
      expect(role.statusCode).toBe(201);
      const auditor = (await loginTokens(t, await createUser(t, { roles: ['auditor'] }))).accessToken;
      const res = await call(auditor, 'GET', '/api/v1/audit-events?limit=5');
      expect(res.statusCode).toBe(200);
      expect(res.json().total).toBeGreaterThan(0);
      for (const e of res.json().items) expect(Object.keys(e).sort()).toEqual(AUDIT_FIELDS);
    });

    it('8.2.2 a conditional read rule on AuditEvent filters the log in SQL: a self-auditor sees only its own events, total included', async () => {
      const role = await call(tok.admin, 'POST', '/api/v1/roles', { name: 'self-auditor', permissions: [{ action: 'read', subject: 'AuditEvent', conditions: { actorId: '${user.id}' } }] });
      expect(role.statusCode).toBe(201);
      const me = await createUser(t, { roles: ['self-auditor'] });
      const token = (await loginTokens(t, me)).accessToken;
      const res = await call(token, 'GET', '/api/v1/audit-events?limit=100');
      expect(res.statusCode).toBe(200);
      const page = res.json();
      const rows = await em(t).execute('SELECT count(*)::int AS n FROM audit_events WHERE actor_id = ?', [me.id]);
      expect(page.total).toBe(rows[0].n);
      expect(page.total).toBeGreaterThan(0);
      expect(page.items.every((e: AuditEventView) => e.actorId === me.id)).toBe(true);
      expect((await call(token, 'GET', `/api/v1/audit-events?actorId=${ids.admin}`)).json()).toMatchObject({ items: [], total: 0 });
    });

    describe('document events and filters', () => {
      let docId: string;
      const at: Record<string, string> = {};
      const headers = (requestId: string) => ({ 'x-request-id': requestId, 'user-agent': 'audit-e2e/1.0' });

      beforeAll(async () => {
        const created = await call(tok.manager, 'POST', '/api/v1/documents', { title: 'Audited', body: 'b' }, headers('audit-doc-create'));
        expect(created.statusCode).toBe(201);
        docId = created.json().id;
        await sleep(5);
        expect((await call(tok.manager, 'PATCH', `/api/v1/documents/${docId}`, { title: 'Audited 2', version: 1 }, headers('audit-doc-update'))).statusCode).toBe(200);
        await sleep(5);
        expect((await call(tok.manager, 'POST', `/api/v1/documents/${docId}/publish`, undefined, headers('audit-doc-publish'))).statusCode).toBe(200);
        await sleep(5);
        expect((await call(tok.manager, 'DELETE', `/api/v1/documents/${docId}`, undefined, headers('audit-doc-delete'))).statusCode).toBe(204);
        for (const e of (await events(`targetId=${docId}`)).items) at[e.type] = e.at;
      });

      it('16.3.2 document.created/updated/published/deleted, newest first, with actor, target, request id, client and details', async () => {
        const page = await events(`targetId=${docId}`);
        expect(page.total).toBe(4);
        expect(page.items.map((e) => e.type)).toEqual(['document.deleted', 'document.published', 'document.updated', 'document.created']);
        for (const e of page.items) {
          expect(Object.keys(e).sort()).toEqual(AUDIT_FIELDS);
          expect(e).toMatchObject({ actorId: ids.manager, targetType: 'Document', targetId: docId, outcome: 'success', userAgent: 'audit-e2e/1.0', ip: expect.any(String) });
          expect(e.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        }
        const byType = Object.fromEntries(page.items.map((e) => [e.type, e]));
        expect(byType['document.created']).toMatchObject({ requestId: 'audit-doc-create', details: { departmentId: alpha, classification: 'internal' } });
        expect(byType['document.updated']).toMatchObject({ requestId: 'audit-doc-update', details: { fields: ['title'], version: 2 } });
        expect(byType['document.published']).toMatchObject({ requestId: 'audit-doc-publish', details: { fields: ['status'], version: 3 } });
        expect(byType['document.deleted']).toMatchObject({ requestId: 'audit-doc-delete' });
      });

      it('filters: type, actorId, targetId combine; an actor who did nothing there yields an empty page', async () => {
        const published = await events(`type=document.published&actorId=${ids.manager}&targetId=${docId}`);
        expect(published.items.map((e) => e.type)).toEqual(['document.published']);
        const byType = await events('type=document.created&limit=100');
        expect(byType.items.length).toBeGreaterThan(0);
        expect(byType.items.every((e) => e.type === 'document.created')).toBe(true);
        expect(byType.items.map((e) => e.targetId)).toContain(docId);
        const byActor = await events(`actorId=${ids.manager}&limit=100`);
        expect(byActor.items.every((e) => e.actorId === ids.manager)).toBe(true);
        expect(await events(`actorId=${ids.viewer}&targetId=${docId}`)).toMatchObject({ items: [], total: 0 });
      });

      it('since is inclusive, until exclusive, and both together bound the window', async () => {
        const types = async (q: string) => (await events(`targetId=${docId}&${q}`)).items.map((e) => e.type);
        const since = encodeURIComponent(at['document.updated']);
        const until = encodeURIComponent(at['document.published']);
        expect(await types(`since=${since}`)).toEqual(['document.deleted', 'document.published', 'document.updated']);
        expect(await types(`until=${until}`)).toEqual(['document.updated', 'document.created']);
        expect(await types(`since=${since}&until=${until}`)).toEqual(['document.updated']);
        expect(await types(`since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);
        // A calendar date means its UTC midnight; an explicit offset is honoured.
        const day = at['document.created'].slice(0, 10);
        const nextDay = new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10);
        expect(await types(`since=${day}&until=${nextDay}`)).toHaveLength(4);
        expect(await types(`until=${day}`)).toEqual([]);
        const createdMs = Date.parse(at['document.created']);
        const inPlusTwo = new Date(createdMs + 2 * 3600_000).toISOString().replace('Z', '+02:00');
        expect(await types(`since=${encodeURIComponent(inPlusTwo)}`)).toHaveLength(4);
      });

      it('paging: limit/offset with total', async () => {
        const first = await events(`targetId=${docId}&limit=2`);
        const second = await events(`targetId=${docId}&limit=2&offset=2`);
        const third = await events(`targetId=${docId}&limit=2&offset=4`);
        expect(first).toMatchObject({ total: 4, limit: 2, offset: 0 });
        expect(second).toMatchObject({ total: 4, limit: 2, offset: 2 });
        expect(third).toMatchObject({ items: [], total: 4 });
        expect([...first.items, ...second.items].map((e) => e.type)).toEqual(['document.deleted', 'document.published', 'document.updated', 'document.created']);
      });
    });

    it.each([
      ['type=Document.Created', 'type'],
      ['type=document created', 'type'],
      [`type=${'a'.repeat(65)}`, 'type'],
      ['actorId=not-a-uuid', 'actorId'],
      [`targetId=${'t'.repeat(65)}`, 'targetId'],
      ['targetId=%00', 'targetId'],
      ['since=yesterday', 'since'],
      ['since=2024-13-45T00:00:00Z', 'since'],
      ['since=2024-02-30', 'since'],
      ['since=2024-W01', 'since'],
      ['since=2024-366', 'since'],
      ['since=20240101T000000Z', 'since'],
      ['since=2024-01-01T10', 'since'],
      ['since=2024-01-01T10:00:00', 'since'],
      ['until=2024-01-01T10:00:00%2B02', 'until'],
      ['until=1700000000', 'until'],
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['offset=-1', 'offset'],
      ['actor=someone', 'actor'],
    ])('a bad filter ?%s → 400 naming %s', async (query, field) => {
      expectValidation(await call(tok.admin, 'GET', `/api/v1/audit-events?${query.replace(/ /g, '%20')}`), field);
    });
  });

  describe('16.3.2 denied authorization decisions are logged', () => {
    const denials = async (actor: string, extra = '') => (await events(`type=access.denied&actorId=${actor}${extra}&limit=100`)).items;

    it('16.3.2 a record-level 403 (editor updates a peer’s draft) → access.denied with action, subject, id and reason', async () => {
      const doc = await createDocument(tok.peer, { title: 'Peer draft', body: 'b' });
      const res = await call(tok.editor, 'PATCH', `/api/v1/documents/${doc.id}`, { title: 'mine now', version: 1 }, { 'x-request-id': 'denied-update-1' });
      expectProblem(res, 403);
      const found = await denials(ids.editor, `&targetId=${doc.id}`);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({
        outcome: 'denied',
        targetType: 'Document',
        targetId: doc.id,
        requestId: 'denied-update-1',
        details: { action: 'update', subject: 'Document', id: doc.id, reason: expect.any(String) },
      });
      expect((found[0].details.reason as string).length).toBeGreaterThan(0);
    });

    it('16.3.2 a field-level 403 (classification → confidential) → access.denied whose reason names the field', async () => {
      const doc = await createDocument(tok.editor, { title: 'Own draft', body: 'b' });
      expectProblem(await call(tok.editor, 'PATCH', `/api/v1/documents/${doc.id}`, { classification: 'confidential', version: 1 }), 403);
      const [event] = await denials(ids.editor, `&targetId=${doc.id}`);
      expect(event).toMatchObject({ outcome: 'denied', details: { action: 'update', subject: 'Document', id: doc.id, reason: expect.stringContaining('classification') } });
    });

    it('16.3.2 a function-level 403 (viewer creates a document) → access.denied with action and subject, id null', async () => {
      const before = (await denials(ids.viewer)).length;
      expectProblem(await call(tok.viewer, 'POST', '/api/v1/documents', { title: 'Not allowed', body: 'b' }), 403);
      const after = await denials(ids.viewer);
      expect(after).toHaveLength(before + 1);
      expect(after[0]).toMatchObject({ outcome: 'denied', details: { action: 'create', subject: 'Document', id: null, reason: expect.any(String) } });
    });

    it('16.3.2 a 404 that hides an unreadable record is a denial too: access.denied is recorded (the caller still sees a plain 404)', async () => {
      const draft = await createDocument(tok.manager, { title: 'Hidden draft', body: 'b' });
      const otherDept = await createDocument(tok.admin, { title: 'Beta draft', body: 'b', departmentId: beta });
      const hidden = await call(tok.viewer, 'GET', `/api/v1/documents/${draft.id}`);
      const missing = await call(tok.viewer, 'GET', `/api/v1/documents/${MISSING_ID}`);
      expectProblem(hidden, 404);
      expect({ ...hidden.json(), instance: undefined }).toEqual({ ...missing.json(), instance: undefined });
      expectProblem(await call(tok.editor, 'DELETE', `/api/v1/documents/${otherDept.id}`), 404);
      // Written off the response path (so the 404 takes no longer than a missing record's): poll briefly.
      const waitFor = async (actor: string, target: string) => {
        for (let i = 0; i < 40; i += 1) {
          const found = await denials(actor, `&targetId=${target}`);
          if (found.length) return found;
          await sleep(25);
        }
        return [];
      };
      const [read] = await waitFor(ids.viewer, draft.id);
      expect(read).toMatchObject({ outcome: 'denied', targetType: 'Document', targetId: draft.id, details: { action: 'read', subject: 'Document', id: draft.id, reason: expect.any(String) } });
      const [del] = await waitFor(ids.editor, otherDept.id);
      expect(del).toMatchObject({ outcome: 'denied', details: { action: 'delete', subject: 'Document', id: otherDept.id } });
      // A record that does not exist is not an authorization decision.
      expect(await denials(ids.viewer, `&targetId=${MISSING_ID}`)).toEqual([]);
    });
  });

  describe('16.4.2 the audit log is append-only', () => {
    it.each([
      ['UPDATE', "UPDATE audit_events SET type = 'tampered'"],
      ['DELETE', 'DELETE FROM audit_events'],
      ['TRUNCATE', 'TRUNCATE audit_events'],
    ])('16.4.2 %s audit_events fails even on a superuser connection; every event survives', async (_verb, sql) => {
      const client = new Client({ connectionString: t.database.url });
      await client.connect();
      try {
        const su = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
        expect(su.rows[0].rolsuper).toBe(true);
        const before = await client.query<{ n: number }>("SELECT count(*)::int AS n, count(*) FILTER (WHERE type = 'tampered')::int AS t FROM audit_events");
        expect(before.rows[0].n).toBeGreaterThan(0);
        await expect(client.query(sql)).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('append-only') });
        const after = await client.query<{ n: number; t: number }>("SELECT count(*)::int AS n, count(*) FILTER (WHERE type = 'tampered')::int AS t FROM audit_events");
        expect(after.rows[0]).toEqual(before.rows[0]);
        expect(after.rows[0].t).toBe(0);
      } finally {
        await client.end();
      }
    });

    it('16.4.2 no route changes or deletes events: POST/PUT/PATCH/DELETE on /api/v1/audit-events → 404, even for an admin', async () => {
      const [event] = (await events('limit=1')).items;
      const attempts: [Method, string][] = [
        ['POST', '/api/v1/audit-events'],
        ['PUT', '/api/v1/audit-events'],
        ['PATCH', '/api/v1/audit-events'],
        ['DELETE', '/api/v1/audit-events'],
        ['GET', `/api/v1/audit-events/${event.id}`],
        ['PUT', `/api/v1/audit-events/${event.id}`],
        ['PATCH', `/api/v1/audit-events/${event.id}`],
        ['DELETE', `/api/v1/audit-events/${event.id}`],
      ];
      for (const [method, url] of attempts) {
        const res = await call(tok.admin, method, url, method === 'GET' || method === 'DELETE' ? undefined : { type: 'tampered' });
        expectProblem(res, 404);
      }
      const rows = await em(t).execute('SELECT type, details FROM audit_events WHERE id = ?', [event.id]);
      expect(rows).toEqual([{ type: event.type, details: event.details }]);
      expect((await events('type=tampered')).total).toBe(0);
    });
  });
});
