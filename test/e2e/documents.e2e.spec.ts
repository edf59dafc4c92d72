import { Client } from 'pg';
import { bearer, createUser, em, loginTokens } from '../support/auth-helpers';
import { expectProblem, expectValidation } from '../support/problem-assertions';
import { createTestApp, type TestApp } from '../support/test-app';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

const DOCUMENT_FIELDS = ['body', 'classification', 'createdAt', 'departmentId', 'id', 'ownerId', 'status', 'title', 'updatedAt', 'version'];
const MISSING_ID = '7f1c2a4e-0000-4000-8000-000000000001';

describe('documents: CRUD, publish, optimistic version, lists, input validation (ASVS 8.2.1, 8.2.2, 8.2.3)', () => {
  let t: TestApp;
  let admin: string;
  let manager: string;
  let managerId: string;
  let departmentId: string;

  const call = (token: string | null, method: Method, url: string, payload?: unknown) =>
    t.app.inject({ method, url, headers: token ? bearer(token) : {}, ...(payload !== undefined ? { payload: payload as object } : {}) });

  const create = async (payload: object, token = manager) => {
    const res = await call(token, 'POST', '/api/v1/documents', payload);
    if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`);
    return res.json();
  };

  beforeAll(async () => {
    t = await createTestApp();
    admin = (await loginTokens(t, await createUser(t, { roles: ['admin'] }))).accessToken;
    const dept = await call(admin, 'POST', '/api/v1/departments', { name: 'Documents dept' });
    departmentId = dept.json().id;
    const m = await createUser(t, { roles: ['manager'], departmentId });
    managerId = m.id;
    manager = (await loginTokens(t, m)).accessToken;
  });
  afterAll(() => t.close());

  describe('CRUD and publish', () => {
    it('8.2.2 POST → 201 with the full document: draft, internal, owner = caller, department = caller’s, version 1', async () => {
      const before = Date.now();
      const res = await call(manager, 'POST', '/api/v1/documents', { title: 'Quarterly plan', body: 'Plan body' });
      expect(res.statusCode).toBe(201);
      const doc = res.json();
      expect(Object.keys(doc).sort()).toEqual(DOCUMENT_FIELDS);
      expect(doc).toMatchObject({ title: 'Quarterly plan', body: 'Plan body', status: 'draft', classification: 'internal', departmentId, ownerId: managerId, version: 1 });
      expect(doc.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(doc.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.parse(doc.createdAt)).toBeGreaterThanOrEqual(before - 1000);
      const rows = await em(t).execute('SELECT title, owner_id, department_id, status, version FROM documents WHERE id = ?', [doc.id]);
      expect(rows).toEqual([{ title: 'Quarterly plan', owner_id: managerId, department_id: departmentId, status: 'draft', version: 1 }]);
    });

    it('GET, PATCH, publish, DELETE: each step visible through GET; DELETE then GET → 404', async () => {
      const doc = await create({ title: 'Lifecycle', body: 'v1', classification: 'public' });
      const got = await call(manager, 'GET', `/api/v1/documents/${doc.id}`);
      expect(got.statusCode).toBe(200);
      expect(got.json()).toEqual(doc);

      const patched = await call(manager, 'PATCH', `/api/v1/documents/${doc.id}`, { title: 'Lifecycle 2', body: 'v2', version: 1 });
      expect(patched.statusCode).toBe(200);
      expect(patched.json()).toMatchObject({ id: doc.id, title: 'Lifecycle 2', body: 'v2', classification: 'public', version: 2, status: 'draft', createdAt: doc.createdAt });
      expect(Date.parse(patched.json().updatedAt)).toBeGreaterThanOrEqual(Date.parse(doc.updatedAt));

      const published = await call(manager, 'POST', `/api/v1/documents/${doc.id}/publish`);
      expect(published.statusCode).toBe(200);
      expect(published.json()).toMatchObject({ status: 'published', version: 3, title: 'Lifecycle 2' });
      expect((await call(manager, 'GET', `/api/v1/documents/${doc.id}`)).json()).toMatchObject({ status: 'published', version: 3 });

      const deleted = await call(manager, 'DELETE', `/api/v1/documents/${doc.id}`);
      expect(deleted.statusCode).toBe(204);
      expect(deleted.body).toBe('');
      expectProblem(await call(manager, 'GET', `/api/v1/documents/${doc.id}`), 404);
      expectProblem(await call(admin, 'GET', `/api/v1/documents/${doc.id}`), 404);
      expectProblem(await call(manager, 'PATCH', `/api/v1/documents/${doc.id}`, { title: 'ghost', version: 3 }), 404);
      expectProblem(await call(manager, 'POST', `/api/v1/documents/${doc.id}/publish`), 404);
      expectProblem(await call(manager, 'DELETE', `/api/v1/documents/${doc.id}`), 404);
      const rows = await em(t).execute('SELECT count(*)::int AS n FROM documents WHERE id = ?', [doc.id]);
      expect(rows[0].n).toBe(0);
    });

    it('an id that does not exist → 404 on GET, PATCH, publish and DELETE (admin)', async () => {
      const url = `/api/v1/documents/${MISSING_ID}`;
      expectProblem(await call(admin, 'GET', url), 404);
      expectProblem(await call(admin, 'PATCH', url, { title: 'x', version: 1 }), 404);
      expectProblem(await call(admin, 'POST', `${url}/publish`), 404);
      expectProblem(await call(admin, 'DELETE', url), 404);
    });

    it('no credentials → 401 with WWW-Authenticate: Bearer on every document route', async () => {
      const doc = await create({ title: 'Unauthenticated target', body: 'b' });
      const routes: [Method, string, object?][] = [
        ['GET', '/api/v1/documents'],
        ['POST', '/api/v1/documents', { title: 'x', body: 'y' }],
        ['GET', `/api/v1/documents/${doc.id}`],
        ['PATCH', `/api/v1/documents/${doc.id}`, { title: 'x', version: 1 }],
        ['POST', `/api/v1/documents/${doc.id}/publish`],
        ['DELETE', `/api/v1/documents/${doc.id}`],
      ];
      for (const [method, url, payload] of routes) {
        const res = await call(null, method, url, payload);
        expectProblem(res, 401);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      }
      expect((await call(admin, 'GET', `/api/v1/documents/${doc.id}`)).json()).toMatchObject({ title: 'Unauthenticated target', version: 1 });
    });
  });

  describe('optimistic version', () => {
    it('a stale version → 409 urn:bastion:problem:version-conflict; the document keeps the newer change', async () => {
      const doc = await create({ title: 'Versioned', body: 'b' });
      expect((await call(manager, 'PATCH', `/api/v1/documents/${doc.id}`, { title: 'Versioned 2', version: 1 })).statusCode).toBe(200);
      const stale = await call(manager, 'PATCH', `/api/v1/documents/${doc.id}`, { title: 'Lost update', version: 1 });
      expectProblem(stale, 409, 'urn:bastion:problem:version-conflict');
      const ahead = await call(manager, 'PATCH', `/api/v1/documents/${doc.id}`, { title: 'From the future', version: 7 });
      expectProblem(ahead, 409, 'urn:bastion:problem:version-conflict');
      expect((await call(manager, 'GET', `/api/v1/documents/${doc.id}`)).json()).toMatchObject({ title: 'Versioned 2', version: 2 });
    });

    it('version is required, an integer ≥ 1 (missing, 0, "2", 1.5 → 400)', async () => {
      const doc = await create({ title: 'Version validation', body: 'b' });
      const url = `/api/v1/documents/${doc.id}`;
      expectValidation(await call(manager, 'PATCH', url, { title: 'x' }), 'version');
      expectValidation(await call(manager, 'PATCH', url, { title: 'x', version: 0 }), 'version');
      expectValidation(await call(manager, 'PATCH', url, { title: 'x', version: '1' }), 'version');
      expectValidation(await call(manager, 'PATCH', url, { title: 'x', version: 1.5 }), 'version');
      expect((await call(manager, 'GET', url)).json()).toMatchObject({ title: 'Version validation', version: 1 });
    });

    it('two concurrent PATCHes with the same version → exactly one 200 and one 409, and the winner’s change is stored', async () => {
      for (let round = 0; round < 5; round += 1) {
        const doc = await create({ title: `Race ${round}`, body: 'b' });
        const url = `/api/v1/documents/${doc.id}`;
        const [a, b] = await Promise.all([
          call(manager, 'PATCH', url, { title: `Race ${round} A`, version: 1 }),
          call(admin, 'PATCH', url, { title: `Race ${round} B`, version: 1 }),
        ]);
        expect([a.statusCode, b.statusCode].sort()).toEqual([200, 409]);
        const [winner, loser] = a.statusCode === 200 ? [a, b] : [b, a];
        expect(loser.json().type).toBe('urn:bastion:problem:version-conflict');
        const stored = (await call(admin, 'GET', url)).json();
        expect(stored).toMatchObject({ version: 2, title: winner.json().title });
      }
    });
  });

  describe('a delete racing a publish', () => {
    it('8.2.2 the delete rules are checked in the DELETE itself: a draft published after the check is not deleted by its editor (403, row kept)', async () => {
      const editor = (await loginTokens(t, await createUser(t, { roles: ['editor'], departmentId }))).accessToken;
      const doc = await create({ title: 'Racing draft', body: 'b' }, editor);
      // Hold the row: the service reads it (a plain SELECT is not blocked), finds a deletable
      // draft, and its DELETE waits on the lock until the publish below has committed.
      const db = new Client({ connectionString: t.database.url });
      await db.connect();
      try {
        await db.query('BEGIN');
        await db.query('SELECT id FROM documents WHERE id = $1 FOR UPDATE', [doc.id]);
        // inject() sends only once something awaits it; `settled` ends the wait if it never blocks.
        let settled = false;
        const deleting = Promise.resolve(call(editor, 'DELETE', `/api/v1/documents/${doc.id}`)).finally(() => (settled = true));
        for (;;) {
          if (settled) throw new Error(`the DELETE did not wait for the held row: ${(await deleting).statusCode}`);
          // pg_stat_activity is read once per transaction unless its snapshot is cleared.
          await db.query('SELECT pg_stat_clear_snapshot()');
          const waiting = await db.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE 'delete from "documents"%'`);
          if (waiting.rowCount) break;
          await new Promise((resolve) => setImmediate(resolve));
        }
        await db.query(`UPDATE documents SET status = 'published', version = version + 1 WHERE id = $1`, [doc.id]);
        await db.query('COMMIT');
        expectProblem(await deleting, 403);
      } finally {
        await db.end();
      }
      const rows = await em(t).execute('SELECT status FROM documents WHERE id = ?', [doc.id]);
      expect(rows).toEqual([{ status: 'published' }]);
    });
  });

  describe('lists', () => {
    const prefix = 'Paging-item';
    let pagingIds: string[];
    beforeAll(async () => {
      pagingIds = [];
      for (let i = 0; i < 25; i += 1) pagingIds.push((await create({ title: `${prefix} ${String(i).padStart(2, '0')}`, body: 'b' })).id);
    });

    it('limit/offset page through the list; total counts all matches; pages are disjoint and newest first', async () => {
      const seen: string[] = [];
      for (const offset of [0, 10, 20]) {
        const res = await call(manager, 'GET', `/api/v1/documents?q=${prefix}&limit=10&offset=${offset}`);
        expect(res.statusCode).toBe(200);
        const page = res.json();
        expect(page).toMatchObject({ total: 25, limit: 10, offset });
        expect(page.items).toHaveLength(offset === 20 ? 5 : 10);
        seen.push(...page.items.map((d: { id: string }) => d.id));
      }
      expect(new Set(seen).size).toBe(25);
      expect([...seen].sort()).toEqual([...pagingIds].sort());
      const first = (await call(manager, 'GET', `/api/v1/documents?q=${prefix}&limit=1`)).json();
      expect(first.items[0].title).toBe(`${prefix} 24`);
      const beyond = (await call(manager, 'GET', `/api/v1/documents?q=${prefix}&offset=30`)).json();
      expect(beyond).toEqual({ items: [], total: 25, limit: 20, offset: 30 });
    });

    it('defaults: limit 20, offset 0; limit 1 and 100 are accepted', async () => {
      const res = (await call(manager, 'GET', `/api/v1/documents?q=${prefix}`)).json();
      expect(res).toMatchObject({ total: 25, limit: 20, offset: 0 });
      expect(res.items).toHaveLength(20);
      expect((await call(manager, 'GET', `/api/v1/documents?q=${prefix}&limit=100`)).json().items).toHaveLength(25);
      expect((await call(manager, 'GET', `/api/v1/documents?q=${prefix}&limit=1`)).json().items).toHaveLength(1);
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=-1', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=1.5', 'limit'],
      ['limit=', 'limit'],
      ['limit=1e1', 'limit'],
      ['limit=0x10', 'limit'],
      ['offset=-1', 'offset'],
      ['offset=abc', 'offset'],
      ['status=deleted', 'status'],
      ['unknown=1', 'unknown'],
    ])('?%s → 400 naming %s', async (query, field) => {
      expectValidation(await call(manager, 'GET', `/api/v1/documents?${query}`), field);
    });

    it('?status= filters by status, and total follows', async () => {
      const doc = await create({ title: 'Status filter published', body: 'b' });
      expect((await call(manager, 'POST', `/api/v1/documents/${doc.id}/publish`)).statusCode).toBe(200);
      const all = (await call(admin, 'GET', '/api/v1/documents?limit=100')).json();
      const published = (await call(admin, 'GET', '/api/v1/documents?status=published&limit=100')).json();
      const drafts = (await call(admin, 'GET', '/api/v1/documents?status=draft&limit=100')).json();
      expect(published.items.length).toBeGreaterThan(0);
      expect(published.items.every((d: { status: string }) => d.status === 'published')).toBe(true);
      expect(drafts.items.every((d: { status: string }) => d.status === 'draft')).toBe(true);
      expect(published.items.map((d: { id: string }) => d.id)).toContain(doc.id);
      expect(published.total + drafts.total).toBe(all.total);
      const archived = (await call(admin, 'GET', '/api/v1/documents?status=archived')).json();
      expect(archived).toMatchObject({ items: [], total: 0 });
    });

    it('?q= matches titles case-insensitively, with % and _ (and \\) taken literally', async () => {
      const titles = ['Qlit 100% done', 'Qlit 1000 done', 'Qlit snake_case', 'Qlit snakeXcase', 'Qlit back\\slash', 'Qlit backslash'];
      const ids = new Map<string, string>();
      for (const title of titles) ids.set(title, (await create({ title, body: 'b' })).id);
      const search = async (q: string) => {
        const res = await call(manager, 'GET', `/api/v1/documents?q=${encodeURIComponent(q)}&limit=100`);
        expect(res.statusCode).toBe(200);
        return res.json().items.map((d: { title: string }) => d.title).sort();
      };
      expect(await search('%')).toEqual(['Qlit 100% done']);
      expect(await search('100%')).toEqual(['Qlit 100% done']);
      expect(await search('_')).toEqual(['Qlit snake_case']);
      expect(await search('snake_case')).toEqual(['Qlit snake_case']);
      expect(await search('\\')).toEqual(['Qlit back\\slash']);
      expect(await search('QLIT SNAKE')).toEqual(['Qlit snakeXcase', 'Qlit snake_case'].sort());
      expect(await search('Qlit')).toEqual([...titles].sort());
      expect(await search("' OR 1=1 --")).toEqual([]);
      expectValidation(await call(manager, 'GET', `/api/v1/documents?q=${'q'.repeat(201)}`), 'q');
    });
  });

  describe('input validation', () => {
    it('title: 1–200 characters (200 ok; 0 and 201 → 400); body ≤ 100 000 characters (100 000 ok; 100 001 → 400)', async () => {
      expect((await call(manager, 'POST', '/api/v1/documents', { title: 't'.repeat(200), body: 'b' })).statusCode).toBe(201);
      expect((await call(manager, 'POST', '/api/v1/documents', { title: 'Long body ok', body: 'b'.repeat(100_000) })).statusCode).toBe(201);
      expectValidation(await call(manager, 'POST', '/api/v1/documents', { title: 't'.repeat(201), body: 'b' }), 'title');
      expectValidation(await call(manager, 'POST', '/api/v1/documents', { title: '', body: 'b' }), 'title');
      expectValidation(await call(manager, 'POST', '/api/v1/documents', { title: 'Long body', body: 'b'.repeat(100_001) }), 'body');
      const doc = await create({ title: 'Patch limits', body: 'b' });
      expectValidation(await call(manager, 'PATCH', `/api/v1/documents/${doc.id}`, { title: 't'.repeat(201), version: 1 }), 'title');
      expectValidation(await call(manager, 'PATCH', `/api/v1/documents/${doc.id}`, { body: 'b'.repeat(100_001), version: 1 }), 'body');
      expectValidation(await call(manager, 'PATCH', `/api/v1/documents/${doc.id}`, { title: '', version: 1 }), 'title');
      expect((await call(manager, 'GET', `/api/v1/documents/${doc.id}`)).json()).toMatchObject({ title: 'Patch limits', version: 1 });
      const rows = await em(t).execute("SELECT count(*)::int AS n FROM documents WHERE title = 'Long body' OR length(title) > 200");
      expect(rows[0].n).toBe(0);
    });

    it('missing or wrongly typed fields and unknown classifications → 400', async () => {
      expectValidation(await call(manager, 'POST', '/api/v1/documents', { body: 'b' }), 'title');
      expectValidation(await call(manager, 'POST', '/api/v1/documents', { title: 'No body' }), 'body');
      expectValidation(await call(manager, 'POST', '/api/v1/documents', { title: 42, body: 'b' }), 'title');
      expectValidation(await call(manager, 'POST', '/api/v1/documents', { title: 'x', body: 'b', classification: 'secret' }), 'classification');
      expectValidation(await call(manager, 'POST', '/api/v1/documents', { title: 'x', body: 'b', departmentId: 'finance' }), 'departmentId');
      expectValidation(await call(manager, 'POST', '/api/v1/documents', ['not', 'an', 'object']), 'body');
    });

    it('unknown fields → 400 — status, owner, department and version cannot be smuggled in', async () => {
      expectValidation(await call(manager, 'POST', '/api/v1/documents', { title: 'x', body: 'b', status: 'published' }), 'status');
      expectValidation(await call(manager, 'POST', '/api/v1/documents', { title: 'x', body: 'b', ownerId: MISSING_ID }), 'ownerId');
      expectValidation(await call(manager, 'POST', '/api/v1/documents', { title: 'x', body: 'b', version: 9 }), 'version');
      const doc = await create({ title: 'Smuggling target', body: 'b' });
      const url = `/api/v1/documents/${doc.id}`;
      expectValidation(await call(manager, 'PATCH', url, { status: 'published', version: 1 }), 'status');
      expectValidation(await call(manager, 'PATCH', url, { departmentId: MISSING_ID, version: 1 }), 'departmentId');
      expectValidation(await call(manager, 'PATCH', url, { ownerId: MISSING_ID, version: 1 }), 'ownerId');
      expectValidation(await call(manager, 'PATCH', url, { title: 'x', version: 1, isAdmin: true }), 'isAdmin');
      expect((await call(manager, 'GET', url)).json()).toMatchObject({ title: 'Smuggling target', status: 'draft', ownerId: managerId, version: 1 });
      const rows = await em(t).execute("SELECT count(*)::int AS n FROM documents WHERE title = 'x'");
      expect(rows[0].n).toBe(0);
    });

    it('bad input never yields a 500: NUL characters, explicit nulls and a version beyond the integer range → 400', async () => {
      const doc = await create({ title: 'Edge input target', body: 'b' });
      const url = `/api/v1/documents/${doc.id}`;
      expectValidation(await call(manager, 'POST', '/api/v1/documents', { title: 'nul\u0000title', body: 'b' }), 'title');
      expectValidation(await call(manager, 'POST', '/api/v1/documents', { title: 'nul body', body: 'b\u0000' }), 'body');
      expectValidation(await call(manager, 'GET', '/api/v1/documents?q=%00'), 'q');
      expectValidation(await call(manager, 'PATCH', url, { title: 'a\u0000', version: 1 }), 'title');
      expectValidation(await call(manager, 'PATCH', url, { title: null, version: 1 }), 'title');
      expectValidation(await call(manager, 'PATCH', url, { body: null, version: 1 }), 'body');
      expectValidation(await call(manager, 'PATCH', url, { classification: null, version: 1 }), 'classification');
      expectValidation(await call(manager, 'PATCH', url, { title: 'x', version: 2_147_483_647 }), 'version');
      expectValidation(await call(manager, 'PATCH', url, { title: 'x', version: 1e308 }), 'version');
      // The largest version whose successor the column can hold is merely stale.
      expectProblem(await call(manager, 'PATCH', url, { title: 'x', version: 2_147_483_646 }), 409, 'urn:bastion:problem:version-conflict');
      expect((await call(manager, 'GET', url)).json()).toMatchObject({ title: 'Edge input target', body: 'b', classification: 'internal', version: 1 });
    });

    it('a non-UUID id → 400 naming id on GET, PATCH, publish and DELETE', async () => {
      for (const bad of ['123', 'not-a-uuid', "1' OR '1'='1", '7f1c2a4e-0000-4000-8000-00000000000g']) {
        const url = `/api/v1/documents/${encodeURIComponent(bad)}`;
        expectValidation(await call(manager, 'GET', url), 'id');
        expectValidation(await call(manager, 'PATCH', url, { title: 'x', version: 1 }), 'id');
        expectValidation(await call(manager, 'POST', `${url}/publish`), 'id');
        expectValidation(await call(manager, 'DELETE', url), 'id');
      }
    });

    it('a body over 1 MiB → 413 problem, not a 500', async () => {
      const res = await call(manager, 'POST', '/api/v1/documents', { title: 'Huge', body: 'b'.repeat(1_100_000) });
      expectProblem(res, 413);
    });
  });

  describe('8.2.3 field-restricted read: a custom role with `fields`', () => {
    let reader: string;
    let titleEditor: string;
    let doc: { id: string; version: number };

    beforeAll(async () => {
      const role = await call(admin, 'POST', '/api/v1/roles', {
        name: 'document-title-reader',
        description: 'Reads only ids and titles of documents',
        permissions: [{ action: 'read', subject: 'Document', fields: ['id', 'title'], conditions: { departmentId: '${user.departmentId}' } }],
      });
      expect(role.statusCode).toBe(201);
      const editorRole = await call(admin, 'POST', '/api/v1/roles', {
        name: 'document-title-editor',
        permissions: [
          { action: 'read', subject: 'Document', fields: ['id', 'title'], conditions: { departmentId: '${user.departmentId}' } },
          { action: 'update', subject: 'Document', fields: ['title'], conditions: { departmentId: '${user.departmentId}' } },
        ],
      });
      expect(editorRole.statusCode).toBe(201);
      reader = (await loginTokens(t, await createUser(t, { roles: ['document-title-reader'], departmentId }))).accessToken;
      titleEditor = (await loginTokens(t, await createUser(t, { roles: ['document-title-editor'], departmentId }))).accessToken;
      doc = await create({ title: 'Field restricted', body: 'the secret body', classification: 'confidential' });
    });

    it('8.2.3 GET /documents/:id returns only the permitted keys (id, title)', async () => {
      const res = await call(reader, 'GET', `/api/v1/documents/${doc.id}`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ id: doc.id, title: 'Field restricted' });
      expect(res.body).not.toContain('the secret body');
    });

    it('8.2.3 every item of GET /documents carries only the permitted keys', async () => {
      const res = await call(reader, 'GET', '/api/v1/documents?limit=100');
      expect(res.statusCode).toBe(200);
      const page = res.json();
      expect(page.total).toBeGreaterThan(25);
      expect(page.items.length).toBeGreaterThan(0);
      for (const item of page.items) expect(Object.keys(item).sort()).toEqual(['id', 'title']);
      expect(res.body).not.toContain('the secret body');
    });

    it('8.2.3 a permitted field change → 200 with only the readable keys; a field outside `fields` → 403 naming it', async () => {
      const ok = await call(titleEditor, 'PATCH', `/api/v1/documents/${doc.id}`, { title: 'Field restricted 2', version: doc.version });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toEqual({ id: doc.id, title: 'Field restricted 2' });
      const denied = await call(titleEditor, 'PATCH', `/api/v1/documents/${doc.id}`, { body: 'overwritten', version: doc.version + 1 });
      expectProblem(denied, 403);
      expect(denied.json().errors).toEqual([{ field: 'body', message: expect.any(String) }]);
      expect((await call(admin, 'GET', `/api/v1/documents/${doc.id}`)).json()).toMatchObject({ title: 'Field restricted 2', body: 'the secret body', version: doc.version + 1 });
    });

    it('8.2.1 a read-only custom role cannot create, update, publish or delete (403)', async () => {
      expectProblem(await call(reader, 'POST', '/api/v1/documents', { title: 'x', body: 'b' }), 403);
      expectProblem(await call(reader, 'PATCH', `/api/v1/documents/${doc.id}`, { title: 'x', version: 1 }), 403);
      expectProblem(await call(reader, 'POST', `/api/v1/documents/${doc.id}/publish`), 403);
      expectProblem(await call(reader, 'DELETE', `/api/v1/documents/${doc.id}`), 403);
      expect((await call(admin, 'GET', `/api/v1/documents/${doc.id}`)).statusCode).toBe(200);
    });
  });
});
