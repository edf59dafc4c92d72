/**
 * Property: for any rule set the validator accepts, the records PostgreSQL returns for
 * `accessibleFilter(ability, 'read', type)` are exactly the records `ability.can('read', record)`
 * allows in memory. Both sides follow one SQL-like semantics (src/policies/app-ability.ts and
 * rules-to-filter.ts):
 *
 * - NULL (or a missing field) equals only NULL: `{f: null}`, `$in: [null]` match it; `$eq: v`,
 *   `$in: [v]` and every `$lt/$lte/$gt/$gte` never do. The negations are the exact complements, as
 *   `IS DISTINCT FROM` would be: `$ne: v` and `$nin: [v]` DO match NULL; `$ne: null` and
 *   `$nin: [null]` mean NOT NULL. `$exists: true` means NOT NULL, `$exists: false` IS NULL. So
 *   every condition is two-valued, and an inverted rule (`$not`) is the exact complement too.
 * - Strings compare by Unicode code point, as in a `COLLATE "C"` column of a UTF-8 database (and
 *   not by UTF-16 code unit, which is JavaScript's `<`: '😀' > 'ｚ' here). Case matters.
 * - uuids compare case-insensitively (a uuid column's meaning): rule operands are lower-cased.
 * - Timestamps compare as instants at millisecond precision: operands are normalised to
 *   `toISOString()`, so `…T10:00:00Z` equals `…T10:00:00.000Z` on both sides.
 * - Fields are scalars: no array traversal, no prototype properties.
 * - A dotted path into a JSON column reads like `->>`: a string leaf as it is, any other leaf as
 *   its jsonb text (`25` → '25', `{"a": 1}` → '{"a": 1}'), a missing key or parent as NULL, never
 *   into arrays. A JSON key named like an `Object.prototype` member has no SQL translation (MikroORM
 *   drops or mangles it) and fails closed. In SQL, `->>` text compares in the database's default
 *   collation, which need not be "C": the validator therefore refuses `$lt`…`$gte` on JSON paths.
 * - An empty `$in` matches nothing, an empty `$nin` everything, also under `$not`/`$or` (MikroORM
 *   drops `{}` there, so the translation never emits it). Empty conditions `{}` mean everything
 *   too, but the validator refuses them; they stay in the generator as a rare refused case.
 *
 * Failures print fast-check's seed and shrunk counterexample; replay one with
 * `POLICY_PROPERTY_SEED=<seed> npx jest test/e2e/policy-sql-equivalence`.
 */
import type { RawRuleOf } from '@casl/ability';
import { MikroORM } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { AuditEvent } from '../../src/audit/audit-event.entity';
import { DomainError } from '../../src/common/problem/domain-error';
import { Classification, Document, DocumentStatus } from '../../src/documents/document.entity';
import { type AppAbility, asSubject, buildAbility } from '../../src/policies/app-ability';
import { validatePermissions } from '../../src/policies/permission-validator';
import { resolvePlaceholders } from '../../src/policies/placeholders';
import type { SubjectType } from '../../src/policies/policy-schema';
import { accessibleFilter, type Filter } from '../../src/policies/rules-to-filter';
import { User, UserStatus } from '../../src/users/user.entity';
import { createTestApp, type TestApp } from '../support/test-app';

const SEED = Number(process.env.POLICY_PROPERTY_SEED ?? 20261127);
const DOCUMENT_RUNS = 220;
const USER_RUNS = 120;
const AUDIT_RUNS = 100;

/** Upper/lower case, accents (precomposed and combining), a surrogate pair above a high BMP char, quotes and LIKE wildcards. */
const ALPHABET = ['a', 'b', 'B', 'z', 'é', 'É', '\u0301', 'Ω', '😀', 'ｚ', ' ', "'", '\\', '%', '_'];
const text = (max: number) => fc.array(fc.constantFrom(...ALPHABET), { maxLength: max }).map((chars) => chars.join(''));

/** Values near a string: itself, longer, shorter (possibly half a surrogate pair), other case. */
const stringNearMisses = (s: string) => [s, `${s}a`, s.slice(0, -1), s.toUpperCase(), s.toLowerCase()];
const dateNearMisses = (d: Date) => {
  const iso = d.toISOString();
  return [iso, iso.replace('.000Z', 'Z'), new Date(d.getTime() + 1).toISOString(), new Date(d.getTime() - 1).toISOString()];
};

/** Mostly values the records hold; otherwise near misses and, for strings, fresh text. */
function near(exact: unknown[], misses: unknown[], fresh?: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const parts = [{ weight: 4, arbitrary: fc.constantFrom(...exact) }, { weight: 2, arbitrary: fc.constantFrom(...misses) }];
  return fc.oneof(...parts, ...(fresh ? [{ weight: 1, arbitrary: fresh }] : []));
}

type Kind = 'uuid' | 'string' | 'number' | 'date' | 'jsonText';
interface FieldSpec {
  kind: Kind;
  values: fc.Arbitrary<unknown>;
}

/** Weighted towards operators that select some rows but not all. */
const OPS = ['$eq', '$eq', '$ne', '$in', '$in', '$nin', '$exists', '$lt', '$lte', '$gt', '$gte'] as const;

/** A MongoDB-style condition on one field: a bare value or 1–2 operators. Null appears wherever a value may. */
function fieldCondition(spec: FieldSpec): fc.Arbitrary<unknown> {
  const value = fc.oneof({ weight: 6, arbitrary: spec.values }, { weight: 1, arbitrary: fc.constant(null) });
  // uuids have no order, and the validator refuses order comparisons on JSON text.
  const ops = spec.kind === 'uuid' || spec.kind === 'jsonText' ? OPS.filter((op) => !op.startsWith('$l') && !op.startsWith('$g')) : OPS;
  const operand = (op: (typeof OPS)[number]): fc.Arbitrary<unknown> => {
    if (op === '$in' || op === '$nin') return fc.array(value, { maxLength: 4 });
    if (op === '$exists') return fc.boolean();
    if (op === '$eq' || op === '$ne') return value;
    return fc.oneof({ weight: 20, arbitrary: spec.values }, { weight: 1, arbitrary: fc.constant(null) });
  };
  const operators = fc
    .oneof({ weight: 3, arbitrary: fc.constantFrom(...ops).map((op) => [op]) }, { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom(...ops), { minLength: 2, maxLength: 2 }) })
    .chain((names) => fc.tuple(...names.map((op) => operand(op).map((v) => [op, v] as const))))
    .map((entries) => Object.fromEntries(entries));
  return fc.oneof({ weight: 1, arbitrary: value }, { weight: 3, arbitrary: operators });
}

function conditions(fields: Record<string, FieldSpec>, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const fieldEntry = fc.constantFrom(...Object.keys(fields)).chain((name) => fieldCondition(fields[name]).map((c) => [name, c] as const));
  const entries: fc.Arbitrary<readonly [string, unknown]>[] = [fieldEntry];
  if (depth > 0) {
    const nested = fc.array(conditions(fields, depth - 1), { minLength: 1, maxLength: 3 });
    entries.push(fc.tuple(fc.constantFrom('$and', '$or'), nested));
  }
  const entry = fc.oneof({ weight: 4, arbitrary: entries[0] }, ...entries.slice(1).map((a) => ({ weight: 1, arbitrary: a })));
  const some = fc.oneof({ weight: 2, arbitrary: fc.tuple(entry) }, { weight: 1, arbitrary: fc.tuple(entry, entry) });
  // `{}` stays a rare case: the validator refuses it (under `$not`/`$or` it once meant the opposite in SQL).
  return fc.oneof({ weight: 40, arbitrary: some.map((e) => Object.fromEntries(e)) }, { weight: 1, arbitrary: fc.constant({}) });
}

/** 1–4 rules on `subject`: mostly `read`, sometimes `manage` (which covers read) or another action (which must not count). */
function ruleSets(subject: SubjectType, fields: Record<string, FieldSpec>): fc.Arbitrary<Record<string, unknown>[]> {
  const rule = fc
    .record({
      action: fc.constantFrom('read', 'read', 'read', 'read', 'manage', 'update'),
      inverted: fc.constantFrom(false, false, true),
      // fc.option yields null once in `freq`: conditions on 7 rules in 8, `fields` on 1 in 8.
      conditions: fc.option(conditions(fields, 2), { freq: 8 }),
      fields: fc.oneof({ weight: 7, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constant(['title']) }),
    })
    .map(({ action, inverted, conditions: c, fields: f }) => ({
      action,
      subject,
      ...(inverted ? { inverted } : {}),
      ...(c ? { conditions: c } : {}),
      ...(f && subject === 'Document' ? { fields: f } : {}),
    }));
  return fc.array(rule, { minLength: 1, maxLength: 4 });
}

interface Outcome {
  refused: number;
  accepted: number;
  /** Rule sets that allow some records but not all. */
  proper: number;
}

/** Runs the property for one subject over `records` (loaded from the table `em.find` queries). */
async function assertSqlMatchesMemory(
  em: EntityManager,
  entity: typeof Document | typeof User | typeof AuditEvent,
  subject: SubjectType,
  records: Record<string, unknown>[],
  rulesArb: fc.Arbitrary<Record<string, unknown>[]>,
  principals: fc.Arbitrary<{ id: string; departmentId: string | null }>,
  numRuns: number,
): Promise<Outcome> {
  const outcome: Outcome = { refused: 0, accepted: 0, proper: 0 };
  await fc.assert(
    fc.asyncProperty(rulesArb, principals, async (rules, principal) => {
      let permissions;
      try {
        permissions = validatePermissions(rules);
      } catch (err) {
        if (!(err instanceof DomainError) || err.code !== 'validation') throw err;
        outcome.refused++;
        return;
      }
      outcome.accepted++;
      const ability = buildAbility(resolvePlaceholders(permissions, principal) as RawRuleOf<AppAbility>[]);
      const memory = records.filter((r) => ability.can('read', asSubject(subject, r) as never)).map((r) => r.id as string);
      const filter: Filter | null = accessibleFilter(ability, 'read', subject);
      const rows = filter === null ? [] : await em.fork().find(entity, filter as never, { fields: ['id'] as never });
      const sql = rows.map((r) => (r as { id: string }).id);
      if (memory.length > 0 && memory.length < records.length) outcome.proper++;
      const diff = (a: string[], b: string[]) => a.filter((id) => !b.includes(id)).map((id) => records.find((r) => r.id === id));
      expect({ onlyInSql: diff(sql, memory), onlyInMemory: diff(memory, sql), filter }).toEqual({ onlyInSql: [], onlyInMemory: [], filter });
    }),
    { numRuns, seed: SEED },
  );
  return outcome;
}

describe('policy filters: SQL equals memory (property)', () => {
  let t: TestApp;
  let em: EntityManager;
  const departments = [randomUUID(), randomUUID(), randomUUID()];
  const owners = [randomUUID(), randomUUID(), randomUUID()];

  beforeAll(async () => {
    t = await createTestApp();
    em = t.app.get(MikroORM).em.fork() as EntityManager;
    for (const [i, id] of departments.entries()) await em.execute('INSERT INTO departments (id, name) VALUES (?, ?)', [id, `Department ${i}`]);
  });
  afterAll(() => t.close());

  it('documents: random rule sets select the same rows in PostgreSQL as ability.can in memory', async () => {
    for (const [i, id] of owners.entries()) {
      await em.execute('INSERT INTO users (id, email, display_name, department_id) VALUES (?, ?, ?, ?)', [id, `owner${i}@example.com`, `Owner ${i}`, departments[i]]);
    }
    const seconds = fc.integer({ min: Date.UTC(2024, 0, 1) / 1000, max: Date.UTC(2024, 0, 3) / 1000 });
    const documentArb = fc.record({
      title: text(4),
      status: fc.constantFrom(...Object.values(DocumentStatus)),
      classification: fc.constantFrom(...Object.values(Classification)),
      departmentId: fc.constantFrom(...departments),
      ownerId: fc.constantFrom(...owners),
      version: fc.integer({ min: 1, max: 4 }),
      // Whole seconds half of the time, so that `…:00Z` and `…:00.000Z` name the same instant.
      createdAt: fc.tuple(seconds, fc.constantFrom(0, 0, 1, 999)).map(([s, ms]) => new Date(s * 1000 + ms)),
    });
    const pool = fc.sample(documentArb, { numRuns: 60, seed: SEED });
    await em.insertMany(Document, pool.map((d) => ({ ...d, id: randomUUID(), body: 'text', updatedAt: d.createdAt })));
    const docs = (await em.fork().find(Document, {})).map((d) => ({ ...d }) as Record<string, unknown>);
    expect(docs).toHaveLength(60);

    const uuids = [...departments, ...owners, '${user.id}', '${user.departmentId}'];
    const uuidMisses = [departments[0].toUpperCase(), owners[1].toUpperCase(), randomUUID()];
    const fields: Record<string, FieldSpec> = {
      title: { kind: 'string', values: near(pool.map((d) => d.title), pool.flatMap((d) => stringNearMisses(d.title)), text(3)) },
      status: { kind: 'string', values: near(Object.values(DocumentStatus), ['Draft', 'drafts', 'a', 'zz', '']) },
      classification: { kind: 'string', values: near(Object.values(Classification), ['Internal', 'internals', 'p', '']) },
      departmentId: { kind: 'uuid', values: near(uuids, uuidMisses) },
      ownerId: { kind: 'uuid', values: near(uuids, uuidMisses) },
      version: { kind: 'number', values: near([1, 2, 3, 4], [0, 5, 2.5, -1, 0.1, 1e10]) },
      createdAt: { kind: 'date', values: near(pool.map((d) => d.createdAt.toISOString()), [...pool.flatMap((d) => dateNearMisses(d.createdAt)), '2024-02-30T00:00:00Z']) },
    };
    const principals = fc.record({ id: fc.constantFrom(...owners), departmentId: fc.constantFrom<string | null>(...departments, null) });
    const outcome = await assertSqlMatchesMemory(em, Document, 'Document', docs, ruleSets('Document', fields), principals, DOCUMENT_RUNS);
    // The generator must be meaningful: most rule sets valid, many selecting a proper subset.
    expect(outcome.accepted).toBeGreaterThan(DOCUMENT_RUNS * 0.8);
    expect(outcome.proper).toBeGreaterThan(DOCUMENT_RUNS * 0.2);
  }, 120_000);

  it('users: NULL departments behave alike under $eq/$ne/$in/$nin/$exists and inverted rules', async () => {
    const userArb = fc.record({
      displayName: text(3),
      email: text(2),
      status: fc.constantFrom(...Object.values(UserStatus)),
      departmentId: fc.constantFrom<string | null>(...departments, null, null),
    });
    const pool = fc.sample(userArb, { numRuns: 40, seed: SEED + 1 });
    for (const [i, u] of pool.entries()) {
      await em.execute('INSERT INTO users (id, email, display_name, status, department_id) VALUES (?, ?, ?, ?, ?)', [
        randomUUID(),
        `${u.email}${i}@example.com`,
        u.displayName,
        u.status,
        u.departmentId,
      ]);
    }
    const users = (await em.fork().find(User, {})).map(
      (u) => ({ id: u.id, email: u.email, displayName: u.displayName, status: u.status, departmentId: u.departmentId ?? null }) as Record<string, unknown>,
    );
    expect(users.filter((u) => u.departmentId === null).length).toBeGreaterThan(5);

    const emails = users.map((u) => u.email as string);
    const names = users.map((u) => u.displayName as string);
    const fields: Record<string, FieldSpec> = {
      departmentId: { kind: 'uuid', values: near([...departments, '${user.departmentId}'], [departments[1].toUpperCase(), randomUUID(), '${user.id}']) },
      status: { kind: 'string', values: near(Object.values(UserStatus), ['Active', 'b', '']) },
      email: { kind: 'string', values: near(emails, emails.flatMap(stringNearMisses), text(2)) },
      displayName: { kind: 'string', values: near(names, names.flatMap(stringNearMisses), text(2)) },
    };
    const principals = fc.record({ id: fc.constantFrom(...users.map((u) => u.id as string)), departmentId: fc.constantFrom<string | null>(...departments, null) });
    const outcome = await assertSqlMatchesMemory(em, User, 'User', users, ruleSets('User', fields), principals, USER_RUNS);
    expect(outcome.accepted).toBeGreaterThan(USER_RUNS * 0.8);
    expect(outcome.proper).toBeGreaterThan(USER_RUNS * 0.2);
  }, 120_000);

  it('audit events: dotted JSON paths read like `->>` (non-string leaves as JSON text, never into arrays)', async () => {
    const leaf = fc.oneof(
      text(2),
      fc.constantFrom(0, 1, 25, -3, 2.5, true, false, null, { a: 1 }, { bb: 'x', a: [1, 'é'] }, [1, 'x'], [], {}),
    );
    const detailsArb = fc.record({ reason: leaf, meta: fc.oneof(leaf, fc.record({ by: leaf }, { requiredKeys: [] })) }, { requiredKeys: [] });
    const pool = fc.sample(fc.record({ type: fc.constantFrom('a.b', 'a.c', 'b'), details: detailsArb }), { numRuns: 40, seed: SEED + 2 });
    await em.insertMany(AuditEvent, pool.map((e) => ({ ...e, id: randomUUID(), outcome: 'success', at: new Date() })));
    const events = (await em.fork().find(AuditEvent, {})).map((e) => ({ ...e }) as Record<string, unknown>);

    const texts = ['0', '1', '25', '2.5', 'true', 'false', 'null', '{"a": 1}', '{"a": [1, "é"], "bb": "x"}', '[1, "x"]', '[]', '{}', 'constructor'];
    const jsonPath = { kind: 'jsonText' as const, values: near(texts, ['', 'a', 'B', '10', '{"a":1}'], text(2)) };
    const fields: Record<string, FieldSpec> = {
      'details.reason': jsonPath,
      'details.meta': jsonPath,
      'details.meta.by': jsonPath,
      'details.meta.a': jsonPath,
      'details.reason.length': jsonPath,
      type: { kind: 'string', values: fc.constantFrom('a.b', 'a.c', 'b', 'a') },
    };
    const principals = fc.record({ id: fc.constant(randomUUID()), departmentId: fc.constant(null) });
    const outcome = await assertSqlMatchesMemory(em, AuditEvent, 'AuditEvent', events, ruleSets('AuditEvent', fields), principals, AUDIT_RUNS);
    expect(outcome.accepted).toBeGreaterThan(AUDIT_RUNS * 0.8);
    expect(outcome.proper).toBeGreaterThan(AUDIT_RUNS * 0.2);
  }, 120_000);
});
