import { buildMongoQueryMatcher, createMongoAbility, type MongoAbility, type RawRuleOf, subject as caslSubject } from '@casl/ability';
import type { Action, SubjectType } from './policy-schema';

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

const conditionsMatcher = buildMongoQueryMatcher(
  {},
  {
    // `$exists: true` means "has a value": NULL counts as absent, as in `IS NOT NULL`.
    exists: (node: { field: string; value: unknown }, object: unknown, { get }: { get: (o: unknown, f: string) => unknown }) =>
      (get(object, node.field) != null) === node.value,
  },
  { compare: sqlCompare },
);

export function buildAbility(rules: RawRuleOf<AppAbility>[]): AppAbility {
  return createMongoAbility<AppAbility>(rules, { conditionsMatcher });
}

/** A record as the policy engine sees it: plain fields, dates as ISO strings, NULLs kept. */
export function asSubject(type: SubjectType, record: Record<string, unknown>): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) plain[key] = value instanceof Date ? value.toISOString() : value;
  return caslSubject(type, plain);
}
