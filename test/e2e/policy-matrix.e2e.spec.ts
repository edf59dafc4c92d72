import type { LightMyRequestResponse } from 'fastify';
import { bearer, createUser, type CreatedUser, loginTokens } from '../support/auth-helpers';
import { expectProblem, expectValidation } from '../support/problem-assertions';
import { createTestApp, type TestApp } from '../support/test-app';

/*
 * The built-in role matrix (ASVS 8.2.1 function level, 8.2.2 record level, 8.2.3 field level,
 * 8.4.1 department boundary): every built-in role × action × department × status × classification
 * × ownership, through HTTP, with the expected outcome computed by an oracle transcribed from the
 * text of API.md — not from src/policies/built-in-roles.ts.
 */

type Role = 'admin' | 'manager' | 'editor' | 'viewer';
type Action = 'read' | 'update' | 'delete' | 'publish';
type Dept = 'A' | 'B';
type Status = 'draft' | 'published';
type Owner = 'self' | 'other';
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** A fixture document; `owner: 'self'` = created by the matrix editor (the only role for which ownership matters). */
interface Spec {
  dept: Dept;
  status: Status;
  confidential: boolean;
  owner: Owner;
}

/** What the oracle knows about a document, relative to the caller. */
interface Facts {
  ownDept: boolean;
  own: boolean;
  published: boolean;
  confidential: boolean;
}

type Rule = (f: Facts) => boolean;

/**
 * API.md, "Built-in roles" — one line per sentence of the spec. An action a role has no rule for
 * at all is refused at function level (403) whatever the record: the answer is the same for any
 * id, so it reveals nothing. Otherwise a record the caller cannot read is 404 (also for writes),
 * and a readable record with a forbidden action is 403.
 *
 * Resolved ambiguity: "editor: create Documents in their department" is read together with the
 * rest of the editor's line (it may neither read confidential documents nor set a classification
 * to confidential), so an editor cannot create a confidential document either.
 */
const ROLE_SPEC: Record<Role, Partial<Record<Action | 'create', Rule>>> = {
  // admin: manage all.
  admin: { create: () => true, read: () => true, update: () => true, delete: () => true, publish: () => true },
  // manager: manage Documents of their department (any classification), incl. publish.
  manager: { create: (f) => f.ownDept, read: (f) => f.ownDept, update: (f) => f.ownDept, delete: (f) => f.ownDept, publish: (f) => f.ownDept },
  // editor: create Documents in their department; read non-confidential Documents of their
  // department (any status); update (title, body, classification to a non-confidential value)
  // and delete their own drafts.
  editor: {
    create: (f) => f.ownDept && !f.confidential,
    read: (f) => f.ownDept && !f.confidential,
    update: (f) => f.ownDept && f.own && !f.published && !f.confidential,
    delete: (f) => f.ownDept && f.own && !f.published,
  },
  // viewer: read published, non-confidential Documents of their department.
  viewer: { read: (f) => f.ownDept && f.published && !f.confidential },
};

const SUCCESS: Record<Action, number> = { read: 200, update: 200, delete: 204, publish: 200 };

function expected(role: Role, action: Action, facts: Facts): number {
  const rule = ROLE_SPEC[role][action];
  if (!rule) return 403;
  if (!ROLE_SPEC[role].read?.(facts)) return 404;
  return rule(facts) ? SUCCESS[action] : 403;
}

function asvsOf(role: Role, action: Action, spec: Spec): string {
  if (!ROLE_SPEC[role][action]) return '8.2.1';
  return spec.dept === 'B' ? '8.4.1' : '8.2.2';
}

const VERB: Record<Action, string> = { read: 'reads', update: 'updates', delete: 'deletes', publish: 'publishes' };

const ROLES: Role[] = ['admin', 'manager', 'editor', 'viewer'];
const MUTATIONS: Exclude<Action, 'read'>[] = ['update', 'delete', 'publish'];
const SPECS: Spec[] = (['A', 'B'] as Dept[]).flatMap((dept) =>
  (['draft', 'published'] as Status[]).flatMap((status) =>
    [false, true].flatMap((confidential) => (['self', 'other'] as Owner[]).map((owner) => ({ dept, status, confidential, owner }))),
  ),
);
/**
 * Which fixture a case acts on: reads and expected refusals change nothing, so they share one set
 * (a wrongly allowed change still fails its own case, which checks the record is untouched); a
 * change expected to succeed gets a document of its own.
 */
function fixtureSet(role: Role, action: Action, spec: Spec): string {
  return action !== 'read' && expected(role, action, factsFor(role, spec)) === SUCCESS[action] ? `${role}:${action}` : 'shared';
}
const DOCUMENT_FIELDS = ['body', 'classification', 'createdAt', 'departmentId', 'id', 'ownerId', 'status', 'title', 'updatedAt', 'version'];

const describeSpec = (s: Spec) =>
  `${s.dept === 'A' ? 'own-dept' : 'other-dept'} ${s.status} ${s.confidential ? 'confidential' : 'internal'} owned-by-${s.owner === 'self' ? 'the-editor' : 'another-editor'}`;
const specKey = (s: Spec) => `${s.dept}|${s.status}|${s.confidential}|${s.owner}`;
/** The matrix users all belong to department A; only the editor can own fixtures. */
function factsFor(role: Role, s: Spec): Facts {
  return { ownDept: s.dept === 'A', own: role === 'editor' && s.owner === 'self', published: s.status === 'published', confidential: s.confidential };
}

/** The test's own model of every document in the database. */
interface ModelDoc {
  id: string;
  title: string;
  departmentId: string;
  ownerId: string;
  status: string;
  classification: string;
  version: number;
}

describe('policy matrix: built-in roles × documents (ASVS 8.2.1, 8.2.2, 8.2.3, 8.4.1)', () => {
  let t: TestApp;
  const dept: Record<Dept, string> = { A: '', B: '' };
  const tokens = {} as Record<Role | 'peerA' | 'peerB', string>;
  const users = {} as Record<Role | 'peerA' | 'peerB', CreatedUser>;
  const model = new Map<string, ModelDoc>();
  const fixtures = new Map<string, ModelDoc>();

  const call = (token: string, method: Method, url: string, payload?: object) => t.app.inject({ method, url, headers: bearer(token), ...(payload ? { payload } : {}) });

  const track = (view: ModelDoc): ModelDoc => {
    const doc = { id: view.id, title: view.title, departmentId: view.departmentId, ownerId: view.ownerId, status: view.status, classification: view.classification, version: view.version };
    model.set(doc.id, doc);
    return doc;
  };

  /** Re-reads a document as admin and brings the model up to date (deleted → removed). */
  const refresh = async (id: string): Promise<LightMyRequestResponse> => {
    const res = await call(tokens.admin, 'GET', `/api/v1/documents/${id}`);
    if (res.statusCode === 200) track(res.json());
    else model.delete(id);
    return res;
  };

  const createAs = async (token: string, payload: object): Promise<ModelDoc> => {
    const res = await call(token, 'POST', '/api/v1/documents', payload);
    if (res.statusCode !== 201) throw new Error(`fixture create failed: ${res.statusCode} ${res.body}`);
    return track(res.json());
  };

  const inBatches = async <T>(items: T[], size: number, fn: (item: T) => Promise<void>) => {
    for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
  };

  /** Every id the caller's GET /documents returns (all pages), and the `total` it claims. */
  const listAll = async (token: string, query = ''): Promise<{ ids: string[]; total: number }> => {
    const ids: string[] = [];
    let total = -1;
    for (let offset = 0; ; offset += 100) {
      const res = await call(token, 'GET', `/api/v1/documents?limit=100&offset=${offset}${query}`);
      expect(res.statusCode).toBe(200);
      const page = res.json();
      if (total === -1) total = page.total;
      expect(page.total).toBe(total);
      for (const item of page.items) {
        expect(Object.keys(item).sort()).toEqual(DOCUMENT_FIELDS);
        ids.push(item.id);
      }
      if (offset + 100 >= page.total) break;
    }
    return { ids, total };
  };

  /** The oracle applied to the model, for a caller of `role` in department A. */
  const readableIds = (role: Role, userId: string, status?: string): string[] =>
    [...model.values()]
      .filter((d) =>
        ROLE_SPEC[role].read?.({
          ownDept: d.departmentId === dept.A,
          own: d.ownerId === userId,
          published: d.status === 'published',
          confidential: d.classification === 'confidential',
        }),
      )
      .filter((d) => !status || d.status === status)
      .map((d) => d.id)
      .sort();

  const expectListMatchesOracle = async (role: Role) => {
    const all = await listAll(tokens[role]);
    const want = readableIds(role, users[role].id);
    expect(all.ids.length).toBe(new Set(all.ids).size);
    expect([...all.ids].sort()).toEqual(want);
    expect(all.total).toBe(want.length);
    for (const status of ['draft', 'published']) {
      const filtered = await listAll(tokens[role], `&status=${status}`);
      const wantFiltered = readableIds(role, users[role].id, status);
      expect([...filtered.ids].sort()).toEqual(wantFiltered);
      expect(filtered.total).toBe(wantFiltered.length);
    }
  };

  beforeAll(async () => {
    t = await createTestApp();
    users.admin = await createUser(t, { roles: ['admin'] });
    tokens.admin = (await loginTokens(t, users.admin)).accessToken;
    for (const d of ['A', 'B'] as Dept[]) {
      const res = await call(tokens.admin, 'POST', '/api/v1/departments', { name: `Matrix ${d}` });
      expect(res.statusCode).toBe(201);
      dept[d] = res.json().id;
    }
    // The matrix editor starts in B, writes the drafts it will own there, then moves to A:
    // "own document in another department" is reached only through the API.
    // The admin has no department (it names one on every create).
    const placement = { manager: 'A', editor: 'B', viewer: 'A', peerA: 'A', peerB: 'B' } as const;
    for (const who of ['manager', 'editor', 'viewer', 'peerA', 'peerB'] as const) {
      const role = who.startsWith('peer') ? 'editor' : who;
      users[who] = await createUser(t, { roles: [role], departmentId: dept[placement[who]] });
      tokens[who] = (await loginTokens(t, users[who])).accessToken;
    }

    const wanted = [
      ...new Map(
        ROLES.flatMap((role) => (['read', ...MUTATIONS] as Action[]).flatMap((action) => SPECS.map((spec) => ({ set: fixtureSet(role, action, spec), spec })))).map((w) => [
          `${w.set}|${specKey(w.spec)}`,
          w,
        ]),
      ).values(),
    ];
    const create = async ({ set, spec }: { set: string; spec: Spec }) => {
      const author = spec.owner === 'self' ? tokens.editor : spec.dept === 'A' ? tokens.peerA : tokens.peerB;
      const doc = await createAs(author, { title: `m ${set} ${describeSpec(spec)}`, body: `body of ${set} ${describeSpec(spec)}` });
      fixtures.set(`${set}|${specKey(spec)}`, doc);
    };
    const movesLater = (w: { spec: Spec }) => w.spec.owner === 'self' && w.spec.dept === 'B';
    await inBatches(wanted.filter(movesLater), 8, create);
    const move = await call(tokens.admin, 'PATCH', `/api/v1/users/${users.editor.id}`, { departmentId: dept.A });
    expect(move.statusCode).toBe(200);
    // A department change reaches the principal cache within 1 s (API.md "whoami").
    for (let i = 0; ; i += 1) {
      const who = await call(tokens.editor, 'GET', '/api/v1/auth/whoami');
      if (who.json().departmentId === dept.A) break;
      if (i > 40) throw new Error('the editor never moved to department A');
      await new Promise((r) => setTimeout(r, 50));
    }
    await inBatches(
      wanted.filter((w) => !movesLater(w)),
      8,
      create,
    );
    // Classification and status are set by the admin (an editor can do neither).
    await inBatches(wanted, 8, async ({ set, spec }) => {
      const key = `${set}|${specKey(spec)}`;
      let doc = fixtures.get(key)!;
      if (spec.confidential) {
        const res = await call(tokens.admin, 'PATCH', `/api/v1/documents/${doc.id}`, { classification: 'confidential', version: doc.version });
        if (res.statusCode !== 200) throw new Error(`fixture classify failed: ${res.body}`);
        doc = track(res.json());
      }
      if (spec.status === 'published') {
        const res = await call(tokens.admin, 'POST', `/api/v1/documents/${doc.id}/publish`);
        if (res.statusCode !== 200) throw new Error(`fixture publish failed: ${res.body}`);
        doc = track(res.json());
      }
      fixtures.set(key, doc);
      expect(doc).toMatchObject({
        departmentId: dept[spec.dept],
        status: spec.status,
        classification: spec.confidential ? 'confidential' : 'internal',
        ownerId: spec.owner === 'self' ? users.editor.id : users[spec.dept === 'A' ? 'peerA' : 'peerB'].id,
      });
    });
    expect(model.size).toBe(wanted.length);
  }, 60_000);
  afterAll(() => t.close());

  describe('read: GET /documents/:id', () => {
    for (const role of ROLES) {
      for (const spec of SPECS) {
        const want = expected(role, 'read', factsFor(role, spec));
        it(`${asvsOf(role, 'read', spec)} ${role} reads ${describeSpec(spec)} → ${want}`, async () => {
          const doc = fixtures.get(`shared|${specKey(spec)}`)!;
          const res = await call(tokens[role], 'GET', `/api/v1/documents/${doc.id}`);
          if (want === 200) {
            expect(res.statusCode).toBe(200);
            expect(res.json()).toMatchObject({ id: doc.id, title: doc.title, version: doc.version });
            expect(Object.keys(res.json()).sort()).toEqual(DOCUMENT_FIELDS);
          } else {
            expectProblem(res, want);
            expect(res.body).not.toContain(doc.title);
          }
        });
      }
    }
  });

  describe('8.2.2 / 8.4.1 list membership equals read permission (before any change)', () => {
    for (const role of ROLES) {
      it(`8.2.2 8.4.1 ${role}: GET /documents lists exactly the readable documents and total counts only those`, async () => {
        await expectListMatchesOracle(role);
      });
    }
  });

  for (const action of MUTATIONS) {
    describe(`${action}`, () => {
      for (const role of ROLES) {
        for (const spec of SPECS) {
          const want = expected(role, action, factsFor(role, spec));
          it(`${asvsOf(role, action, spec)} ${role} ${VERB[action]} ${describeSpec(spec)} → ${want}`, async () => {
            const doc = fixtures.get(`${fixtureSet(role, action, spec)}|${specKey(spec)}`)!;
            const url = `/api/v1/documents/${doc.id}`;
            const res =
              action === 'update'
                ? await call(tokens[role], 'PATCH', url, { title: `${doc.title} edited`, version: doc.version })
                : action === 'delete'
                  ? await call(tokens[role], 'DELETE', url)
                  : await call(tokens[role], 'POST', `${url}/publish`);
            const after = await refresh(doc.id);
            if (want === SUCCESS[action]) {
              expect(res.statusCode).toBe(want);
              if (action === 'delete') {
                expect(res.body).toBe('');
                expect(after.statusCode).toBe(404);
                return;
              }
              // Publishing is idempotent: an already published document keeps its version.
              const republish = action === 'publish' && doc.status === 'published';
              const changed = { version: republish ? doc.version : doc.version + 1, ...(action === 'update' ? { title: `${doc.title} edited` } : { status: 'published' }) };
              expect(res.json()).toMatchObject({ id: doc.id, ...changed });
              expect(after.json()).toMatchObject(changed);
            } else {
              expectProblem(res, want);
              expect(res.body).not.toContain(doc.title);
              // Refused means untouched.
              expect(after.statusCode).toBe(200);
              expect(after.json()).toMatchObject({ title: doc.title, status: doc.status, classification: doc.classification, version: doc.version });
            }
          });
        }
      }
    });
  }

  describe('create: POST /documents', () => {
    for (const role of ROLES) {
      for (const d of ['A', 'B'] as Dept[]) {
        for (const classification of ['internal', 'confidential']) {
          const facts: Facts = { ownDept: d === 'A', own: true, published: false, confidential: classification === 'confidential' };
          const rule = ROLE_SPEC[role].create;
          const want = rule?.(facts) ? 201 : 403;
          const asvs = !rule ? '8.2.1' : d === 'B' ? '8.4.1' : '8.2.2';
          it(`${asvs} ${role} creates a ${classification} document in ${d === 'A' ? 'its own' : 'the other'} department → ${want}`, async () => {
            const title = `created by ${role} in ${d} ${classification}`;
            const res = await call(tokens[role], 'POST', '/api/v1/documents', { title, body: 'x', classification, departmentId: dept[d] });
            if (want === 201) {
              expect(res.statusCode).toBe(201);
              expect(res.json()).toMatchObject({ title, status: 'draft', classification, departmentId: dept[d], ownerId: users[role].id, version: 1 });
              track(res.json());
            } else {
              expectProblem(res, 403);
              const search = await call(tokens.admin, 'GET', `/api/v1/documents?q=${encodeURIComponent(title)}`);
              expect(search.json().total).toBe(0);
            }
          });
        }
      }
    }

    it('8.2.2 an editor creating without departmentId gets a draft of its own department, classification internal, owned by itself', async () => {
      const res = await call(tokens.editor, 'POST', '/api/v1/documents', { title: 'editor default department', body: 'b' });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ status: 'draft', classification: 'internal', departmentId: dept.A, ownerId: users.editor.id, version: 1 });
      track(res.json());
    });

    it('8.2.2 a manager creating without departmentId may pick confidential; the document lands in its department', async () => {
      const res = await call(tokens.manager, 'POST', '/api/v1/documents', { title: 'manager confidential default', body: 'b', classification: 'confidential' });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ status: 'draft', classification: 'confidential', departmentId: dept.A, ownerId: users.manager.id });
      track(res.json());
    });
  });

  describe('8.2.3 field level: editor PATCH', () => {
    let own: ModelDoc;
    beforeAll(async () => {
      own = await createAs(tokens.editor, { title: 'editor field level', body: 'first' });
    });

    it('8.2.3 editor changes title and body of its own draft → 200', async () => {
      const res = await call(tokens.editor, 'PATCH', `/api/v1/documents/${own.id}`, { title: 'editor field level v2', body: 'second', version: own.version });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ title: 'editor field level v2', body: 'second', version: own.version + 1, status: 'draft' });
      own = track(res.json());
    });

    it('8.2.3 editor sets classification of its own draft to a non-confidential value → 200', async () => {
      const res = await call(tokens.editor, 'PATCH', `/api/v1/documents/${own.id}`, { classification: 'public', version: own.version });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ classification: 'public', version: own.version + 1 });
      own = track(res.json());
    });

    it('8.2.3 editor sets classification → confidential → 403 naming `classification` in errors; nothing changes', async () => {
      const res = await call(tokens.editor, 'PATCH', `/api/v1/documents/${own.id}`, { classification: 'confidential', version: own.version });
      expectProblem(res, 403);
      expect(res.json().errors).toEqual([{ field: 'classification', message: expect.any(String) }]);
      const after = await refresh(own.id);
      expect(after.json()).toMatchObject({ classification: 'public', version: own.version });
    });

    it('8.2.3 a forbidden value refuses the whole change, also the allowed fields sent with it', async () => {
      const res = await call(tokens.editor, 'PATCH', `/api/v1/documents/${own.id}`, { title: 'sneaky', classification: 'confidential', version: own.version });
      expectProblem(res, 403);
      expect(res.json().errors).toContainEqual({ field: 'classification', message: expect.any(String) });
      const after = await refresh(own.id);
      expect(after.json()).toMatchObject({ title: 'editor field level v2', classification: 'public', version: own.version });
    });

    it("8.2.2 another editor's draft (readable, internal) → 403, not 404: the editor may read it, so hiding it would be pointless", async () => {
      const peers = await createAs(tokens.peerA, { title: 'peer draft', body: 'peer' });
      const read = await call(tokens.editor, 'GET', `/api/v1/documents/${peers.id}`);
      expect(read.statusCode).toBe(200);
      const res = await call(tokens.editor, 'PATCH', `/api/v1/documents/${peers.id}`, { title: 'hijacked', version: peers.version });
      expectProblem(res, 403);
      expect((await refresh(peers.id)).json()).toMatchObject({ title: 'peer draft', version: peers.version });
    });

    it('8.2.2 editor PATCH of its own published document → 403 (drafts only)', async () => {
      const doc = await createAs(tokens.editor, { title: 'editor soon published', body: 'b' });
      expect((await call(tokens.manager, 'POST', `/api/v1/documents/${doc.id}/publish`)).statusCode).toBe(200);
      const current = (await refresh(doc.id)).json();
      const res = await call(tokens.editor, 'PATCH', `/api/v1/documents/${doc.id}`, { title: 'changed after publishing', version: current.version });
      expectProblem(res, 403);
      expect((await refresh(doc.id)).json()).toMatchObject({ title: 'editor soon published', status: 'published' });
    });

    it('8.2.3 a manager may set classification → confidential in its department', async () => {
      const doc = await createAs(tokens.editor, { title: 'manager classifies', body: 'b' });
      const res = await call(tokens.manager, 'PATCH', `/api/v1/documents/${doc.id}`, { classification: 'confidential', version: doc.version });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ classification: 'confidential', version: doc.version + 1 });
      track(res.json());
      // …after which its own author can no longer see it.
      expectProblem(await call(tokens.editor, 'GET', `/api/v1/documents/${doc.id}`), 404);
    });
  });

  describe('refusals reveal nothing', () => {
    const MISSING = '00000000-0000-4000-8000-00000000abcd';
    const strip = (res: LightMyRequestResponse) => ({ ...res.json(), instance: undefined });

    it('8.2.1 a function-level 403 (no rule for the action at all) is the same for an unreadable record and for no record', async () => {
      const hidden = fixtures.get(`shared|${specKey({ dept: 'B', status: 'draft', confidential: true, owner: 'other' })}`)!;
      for (const [role, method, suffix, payload] of [
        ['viewer', 'PATCH', '', { title: 'x', version: 1 }],
        ['viewer', 'DELETE', '', undefined],
        ['editor', 'POST', '/publish', undefined],
      ] as const) {
        const onHidden = await call(tokens[role], method, `/api/v1/documents/${hidden.id}${suffix}`, payload);
        const onMissing = await call(tokens[role], method, `/api/v1/documents/${MISSING}${suffix}`, payload);
        expectProblem(onHidden, 403);
        expect(strip(onHidden)).toEqual(strip(onMissing));
      }
    });

    it('8.2.2 8.4.1 a record-level 404 for an unreadable record is the same as for no record, for reads and writes', async () => {
      const hidden = fixtures.get(`shared|${specKey({ dept: 'B', status: 'published', confidential: false, owner: 'other' })}`)!;
      for (const [role, method, payload] of [
        ['viewer', 'GET', undefined],
        ['editor', 'PATCH', { title: 'x', version: hidden.version }],
        ['editor', 'DELETE', undefined],
        ['manager', 'PATCH', { title: 'x', version: hidden.version }],
      ] as const) {
        const onHidden = await call(tokens[role], method, `/api/v1/documents/${hidden.id}`, payload);
        const onMissing = await call(tokens[role], method, `/api/v1/documents/${MISSING}`, payload);
        expectProblem(onHidden, 404);
        expect(strip(onHidden)).toEqual(strip(onMissing));
      }
      expect((await refresh(hidden.id)).json()).toMatchObject({ title: hidden.title, version: hidden.version });
    });
  });

  describe('a user without a department', () => {
    let sample: ModelDoc;
    const noDept = {} as Record<'editor' | 'viewer' | 'manager', string>;
    beforeAll(async () => {
      sample = [...model.values()].find((d) => d.departmentId === dept.A && d.status === 'published' && d.classification !== 'confidential')!;
      for (const role of ['editor', 'viewer', 'manager'] as const) {
        noDept[role] = (await loginTokens(t, await createUser(t, { roles: [role], departmentId: null }))).accessToken;
      }
    });

    for (const role of ['editor', 'viewer', 'manager'] as const) {
      it(`8.4.1 ${role} without a department: no department-scoped rule applies, so listing and reading documents are refused (403) and nothing leaks`, async () => {
        const list = await call(noDept[role], 'GET', '/api/v1/documents');
        expectProblem(list, 403);
        expect(list.body).not.toContain(sample.id);
        const one = await call(noDept[role], 'GET', `/api/v1/documents/${sample.id}`);
        expectProblem(one, 403);
        expect(one.body).not.toContain(sample.title);
      });
    }

    for (const role of ['editor', 'manager'] as const) {
      it(`8.4.1 ${role} without a department cannot create, neither by default nor by naming a department → 403`, async () => {
        expectProblem(await call(noDept[role], 'POST', '/api/v1/documents', { title: `orphan ${role}`, body: 'b' }), 403);
        expectProblem(await call(noDept[role], 'POST', '/api/v1/documents', { title: `orphan ${role}`, body: 'b', departmentId: dept.A }), 403);
        const search = await call(tokens.admin, 'GET', `/api/v1/documents?q=${encodeURIComponent(`orphan ${role}`)}`);
        expect(search.json().total).toBe(0);
      });
    }

    it('an admin without a department must name one: no departmentId → 400 naming departmentId', async () => {
      const res = await call(tokens.admin, 'POST', '/api/v1/documents', { title: 'admin without department', body: 'b' });
      expectValidation(res, 'departmentId');
      expect(res.json()).toMatchObject({ type: 'urn:bastion:problem:validation', errors: [{ field: 'departmentId', message: expect.any(String) }] });
    });

    it('an unknown departmentId → 400 (admin), not a 500', async () => {
      const res = await call(tokens.admin, 'POST', '/api/v1/documents', { title: 'nowhere', body: 'b', departmentId: '00000000-0000-4000-8000-000000000000' });
      expectValidation(res, 'departmentId');
      expect(res.json().errors).toEqual([{ field: 'departmentId', message: expect.any(String) }]);
    });
  });

  describe('8.2.2 / 8.4.1 list membership equals read permission (after every change above)', () => {
    for (const role of ROLES) {
      it(`8.2.2 8.4.1 ${role}: GET /documents lists exactly the readable documents and total counts only those`, async () => {
        await expectListMatchesOracle(role);
      });
    }

    it('the model the oracle ran on is the database: admin lists every document', async () => {
      const all = await listAll(tokens.admin);
      expect([...all.ids].sort()).toEqual([...model.keys()].sort());
    });
  });
});
