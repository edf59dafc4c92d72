import { buildMongoQueryMatcher, createMongoAbility, type MongoAbility, type RawRuleOf, subject as caslSubject } from '@casl/ability';
import { type Action, type FieldType, fieldsOf, SUBJECTS, type SubjectName, type SubjectType } from './policy-schema';

export type AppAbility = MongoAbility<[Action, SubjectType | 'all' | (Record<string, unknown> & { __caslSubjectType__?: string })]>;

/**
 * Comparison with SQL's meaning, so that a rule decides the same in memory (one record) and in
 * PostgreSQL (a list): NULL equals only NULL and is never less or greater than anything; strings
 * compare by code point, like a `COLLATE "C"` column.
 */
export function sqlCompare(a: unknown, b: unknown): 0 | 1 | -1 {
  if (a === b) return 0;
  if (a == null || b == null) return (a == null && b == null ? 0 : NaN) as 0;
  if (typeof a === 'string' && typeof b === 'string') return Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))) as 0 | 1 | -1;
  if (typeof a !== typeof b) return NaN as 0;
  return (a < b ? -1 : a > b ? 1 : 0) as 0 | 1 | -1;
}

const own = (o: unknown, key: string): o is Record<string, unknown> =>
  typeof o === 'object' && o !== null && !Array.isArray(o) && Object.prototype.hasOwnProperty.call(o, key);

/** A JSON value as jsonb prints it (`->>` of an object or array): keys by length, then bytes. */
function jsonbText(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(jsonbText).join(', ')}]`;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const keys = Object.keys(value).sort((a, b) => Buffer.byteLength(a) - Buffer.byteLength(b) || Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${keys.map((k) => `${JSON.stringify(k)}: ${jsonbText((value as Record<string, unknown>)[k])}`).join(', ')}}`;
}

/**
 * A field as SQL reads it: a column, or `->>` along a path into a JSON column (a string leaf as
 * it is, any other leaf as its JSON text). Own properties of objects only, never into arrays or
 * the prototype; anything missing is NULL.
 */
function read(record: unknown, path: string): unknown {
  const keys = path.split('.');
  let value: unknown = record;
  for (const key of keys) {
    if (!own(value, key)) return null;
    value = value[key];
  }
  if (value === undefined || value === null) return null;
  return keys.length > 1 && typeof value !== 'string' ? jsonbText(value) : value;
}

type FieldNode = { field: string; value: unknown };
const onField = (test: (value: unknown, operand: unknown) => boolean) => (node: FieldNode, record: unknown) => test(read(record, node.field), node.value);
const isIn = (value: unknown, list: unknown) => (list as unknown[]).some((item) => sqlCompare(value, item) === 0);

/**
 * Scalar, two-valued interpreters: each is exactly what rules-to-filter.ts writes in SQL (no
 * array traversal, no `hasOwn` special case for `{field: null}`). `$and`/`$or` are registered
 * too: CASL's default Mongo matcher would read them as fields named "$and"/"$or" and never match.
 */
const conditionsMatcher = buildMongoQueryMatcher(
  { $and: { type: 'compound' }, $or: { type: 'compound' } },
  {
    eq: onField((v, x) => sqlCompare(v, x) === 0),
    ne: onField((v, x) => sqlCompare(v, x) !== 0),
    lt: onField((v, x) => sqlCompare(v, x) === -1),
    lte: onField((v, x) => sqlCompare(v, x) === -1 || sqlCompare(v, x) === 0),
    gt: onField((v, x) => sqlCompare(v, x) === 1),
    gte: onField((v, x) => sqlCompare(v, x) === 1 || sqlCompare(v, x) === 0),
    in: onField(isIn),
    nin: onField((v, x) => !isIn(v, x)),
    // `$exists: true` means "has a value": NULL counts as absent, as in `IS NOT NULL`.
    exists: onField((v, x) => (v !== null) === x),
    or: (node: { value: never[] }, record: unknown, { interpret }: { interpret: (condition: never, record: unknown) => boolean }) =>
      node.value.some((condition) => interpret(condition, record)),
  },
  { compare: sqlCompare },
);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An operand as SQL compares it: a uuid in lower case (uuid columns ignore case), a timestamp as the instant's ISO string. */
function canonical(value: unknown, type: FieldType): unknown {
  if (Array.isArray(value)) return value.map((v) => canonical(v, type));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([op, v]) => [op, op === '$exists' ? v : canonical(v, type)]));
  }
  if (typeof value !== 'string') return value;
  if (type === 'uuid') return UUID.test(value) ? value.toLowerCase() : value;
  const time = Date.parse(value);
  return Number.isNaN(time) ? value : new Date(time).toISOString();
}

function canonicalConditions(conditions: Record<string, unknown>, fields: Record<string, FieldType>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(conditions).map(([key, value]) => {
      if (key === '$and' || key === '$or') return [key, (value as Record<string, unknown>[]).map((c) => canonicalConditions(c, fields))];
      const type = Object.prototype.hasOwnProperty.call(fields, key) ? fields[key] : undefined;
      return [key, type === 'uuid' || type === 'date' ? canonical(value, type) : value];
    }),
  );
}

/**
 * Builds the ability from validated rules with resolved placeholders. Operands are first brought
 * into the form SQL compares them in, so that a record's check and the list filter agree: records
 * hold lower-case uuids and `toISOString()` timestamps (see `asSubject`).
 */
export function buildAbility(rules: RawRuleOf<AppAbility>[]): AppAbility {
  const canonicalRules = rules.map((rule) => {
    const subject = rule.subject;
    if (!rule.conditions || typeof subject !== 'string' || !(SUBJECTS as readonly string[]).includes(subject)) return rule;
    return { ...rule, conditions: canonicalConditions(rule.conditions as Record<string, unknown>, fieldsOf(subject as SubjectName)) };
  });
  return createMongoAbility<AppAbility>(canonicalRules as RawRuleOf<AppAbility>[], { conditionsMatcher });
}

/** A record as the policy engine sees it: plain fields, dates as ISO strings, NULLs kept. */
export function asSubject(type: SubjectType, record: Record<string, unknown>): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) plain[key] = value instanceof Date ? value.toISOString() : value;
  return caslSubject(type, plain);
}
