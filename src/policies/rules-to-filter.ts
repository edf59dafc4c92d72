import { rulesToCondition } from '@casl/ability/extra';
import type { AppAbility } from './app-ability';
import type { Action, SubjectType } from './policy-schema';

export type Filter = Record<string, unknown>;

/** Policy fields whose entity property has another name (a relation named for its target). */
const ENTITY_PROPERTIES: Partial<Record<SubjectType, Record<string, string>>> = { Session: { userId: 'user' } };

/**
 * Explicit TRUE and FALSE (MikroORM writes `1 = 1` / `1 = 0`). An empty object is never used inside
 * a filter: MikroORM drops `{}` and `{ $and: [] }` from `$or` and `$not`, so `$not: {}` would
 * match everything and `$or: [{}, x]` only `x`.
 */
const matchAll = (): Filter => ({ id: { $nin: [] } });
const matchNothing = (): Filter => ({ id: { $in: [] } });
const isOperatorObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).some((k) => k.startsWith('$'));

/**
 * `a.b.c` → `{ a: { b: { c: value } } }` (MikroORM's JSON property queries). MikroORM cannot
 * express a JSON key named like an `Object.prototype` member: `__proto__` vanishes from the query
 * (a grant would match everything), `constructor` compares the whole column, `toString` throws.
 * Such a path fails closed here; the validator should refuse it with a 400.
 */
function atPath(path: string, value: unknown, properties: Record<string, string>): Filter {
  const keys = path.split('.');
  if (Object.prototype.hasOwnProperty.call(properties, keys[0])) keys[0] = properties[keys[0]];
  if (keys.some((key) => key in Object.prototype)) throw new Error(`field ${path} has no SQL translation`);
  return keys
    .reverse()
    .reduce<unknown>((inner, key) => ({ [key]: inner }), value) as Filter;
}

/**
 * One field condition as a two-valued SQL predicate: a NULL column makes each comparison plainly
 * true or false (never UNKNOWN), so that `$not` and inverted rules keep CASL's in-memory meaning.
 */
function fieldFilter(path: string, op: string, value: unknown, properties: Record<string, string>): Filter {
  const at = (p: string, v: unknown) => atPath(p, v, properties);
  const isNull = at(path, null);
  const notNull = at(path, { $ne: null });
  const both = (...parts: Filter[]): Filter => ({ $and: parts });
  const either = (...parts: Filter[]): Filter => ({ $or: parts });
  switch (op) {
    case '$eq':
      return value === null ? isNull : both(notNull, at(path, value));
    case '$ne':
      return value === null ? notNull : either(isNull, at(path, { $ne: value }));
    case '$in': {
      const list = value as unknown[];
      const values = list.filter((v) => v !== null);
      const parts = values.length ? [both(notNull, at(path, { $in: values }))] : [];
      if (values.length !== list.length) parts.push(isNull);
      return parts.length ? either(...parts) : matchNothing();
    }
    case '$nin': {
      const list = value as unknown[];
      const values = list.filter((v) => v !== null);
      const excludesNull = values.length !== list.length;
      if (!values.length) return excludesNull ? notNull : matchAll();
      return excludesNull ? both(notNull, at(path, { $nin: values })) : either(isNull, at(path, { $nin: values }));
    }
    case '$exists':
      return value ? notNull : isNull;
    case '$lt':
    case '$lte':
    case '$gt':
    case '$gte':
      return both(notNull, at(path, { [op]: value }));
    default:
      throw new Error(`operator ${op} has no SQL translation`);
  }
}

/** A validated MongoDB-style condition object → a MikroORM FilterQuery. */
export function conditionsToFilter(conditions: Record<string, unknown>, properties: Record<string, string> = {}): Filter {
  const parts: Filter[] = [];
  for (const [key, value] of Object.entries(conditions)) {
    if (key === '$and' || key === '$or') {
      parts.push({ [key]: (value as Record<string, unknown>[]).map((c) => conditionsToFilter(c, properties)) });
    } else if (isOperatorObject(value)) {
      for (const [op, operand] of Object.entries(value)) parts.push(fieldFilter(key, op, operand, properties));
    } else {
      parts.push(fieldFilter(key, '$eq', value, properties));
    }
  }
  if (!parts.length) return matchAll();
  return parts.length === 1 ? parts[0] : { $and: parts };
}

/**
 * The records `ability` allows for (action, subject), as a MikroORM filter for lists (ASVS 8.2.2):
 * CASL's rule priority flattened by `rulesToCondition` into OR-ed grants, each bounded by the
 * AND NOT of the restrictions above it. `null` means nothing is allowed: do not query at all.
 */
export function accessibleFilter(ability: AppAbility, action: Action, subjectType: SubjectType): Filter | null {
  return rulesToCondition(
    ability.rulesFor(action, subjectType),
    (rule) => {
      const condition = rule.conditions ? conditionsToFilter(rule.conditions as Record<string, unknown>, ENTITY_PROPERTIES[subjectType]) : {};
      return rule.inverted ? { $not: condition } : condition;
    },
    {
      and: (conditions: Filter[]) => ({ $and: conditions }),
      or: (conditions: Filter[]) => ({ $or: conditions }),
      empty: () => ({}),
    },
  );
}
