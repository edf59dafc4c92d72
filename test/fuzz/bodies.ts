import fc from 'fast-check';
import { CONTENT_TYPES, deeplyNested, hostileString, hostileValue, MALFORMED_JSON, TWO_MB, wrongTypeValue } from './hostile';
import type { FuzzRoute, JsonSchema } from './openapi-routes';
import type { FuzzContext, FuzzRequest } from './requests';

/** A well-formed id no row has (the generated ones come from fc.uuid(), so runs repeat). */
export const NOWHERE = '00000000-0000-4000-8000-00000000f022';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
type Body = { value: Record<string, unknown>; notes: string[]; invalid: boolean };

/** A valid value per field: enough for the request to get past validation when nothing is broken. */
function templateValue(name: string, schema: JsonSchema, ctx: FuzzContext): unknown {
  const byName: Record<string, unknown> = {
    email: ctx.victimEmail,
    password: 'not the victim password 1',
    newPassword: 'a fresh and long passphrase',
    currentPassword: 'not the current password 1',
    displayName: 'Fuzz',
    name: 'fuzz-role',
    permissions: [{ action: 'read', subject: 'Document' }],
    token: 'A'.repeat(43),
    refreshToken: 'R'.repeat(43),
    mfaToken: 'M'.repeat(40),
    code: '123456',
    recoveryCode: 'ABCD-EFGH-JKMN',
    title: 'Fuzz',
    body: 'text',
    version: 1,
    field: 'title',
    roles: ['viewer'],
  };
  if (name in byName) return byName[name];
  if (schema.enum?.length) return schema.enum[0];
  if (schema.format === 'uuid') return NOWHERE;
  switch (schema.type) {
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return 'fuzz';
  }
}

/** The string surely breaks the schema (only checks that need no guessing about transforms). */
export function stringBreaks(schema: JsonSchema, s: string): boolean {
  if (schema.enum && !schema.enum.includes(s)) return true;
  if (schema.format === 'uuid' && !UUID.test(s)) return true;
  if (schema.pattern && !new RegExp(schema.pattern).test(s)) return true;
  if (schema.maxLength !== undefined && !/[\ufe0e\ufe0f]/.test(s)) {
    // Code points (what the length checks count) are at least half the UTF-16 length: no need to
    // split a 2 MB string to know it is too long.
    const trimmed = s.trim();
    const length = trimmed.length > 2 * schema.maxLength ? trimmed.length / 2 : [...trimmed].length;
    if (length > schema.maxLength) return true;
  }
  return false;
}

/** Rules the permission validator must refuse (unknown operators, prototype keys, depth, size). */
const INVALID_RULES: unknown[][] = [
  [{ action: 'read', subject: 'Document', conditions: { $where: 'this.ownerId == 1' } }],
  [{ action: 'read', subject: 'Document', conditions: { title: { $regex: '.*' } } }],
  [{ action: 'read', subject: 'Document', conditions: JSON.parse('{"__proto__":{"polluted":true}}') }],
  [{ action: 'read', subject: 'Document', conditions: { constructor: { prototype: { x: 1 } } } }],
  [{ action: 'read', subject: 'Document', conditions: { ownerId: "' OR 1=1 --" } }],
  [{ action: 'read', subject: 'Document', conditions: { ownerId: '${process.env.DATABASE_URL}' } }],
  [{ action: 'read', subject: 'Document', conditions: { password_hash: { $exists: true } } }],
  [{ action: 'read', subject: 'Document', conditions: { 'title; DROP TABLE roles': 'x' } }],
  [{ action: 'read', subject: 'Document', conditions: { $and: [deeplyNested(8, 'object')] } }],
  [{ action: 'read', subject: 'Document', conditions: { $or: [{ $and: [{ $or: [{ $and: [{ $or: [{ title: 'x' }] }] }] }] }] } }],
  [{ action: 'read', subject: 'Document', conditions: { title: 'x'.repeat(300) } }],
  [{ action: 'read', subject: 'Document', fields: ['passwordHash'] }],
  [{ action: 'read', subject: 'Document', inverted: 'yes' }],
  [{ action: 'read', subject: 'Document', reason: 'r'.repeat(201) }],
  [{ action: 'hack', subject: 'Document' }],
  [{ action: 'read', subject: 'Database' }],
  [{ action: 'read', subject: 'Document', extra: 1 }],
  [null],
  ['read Document'],
  Array.from({ length: 101 }, () => ({ action: 'read', subject: 'Document' })),
];

/** A body that gets past validation when nothing is broken: a valid value for every declared field. */
export function templateBody(schema: JsonSchema, ctx: FuzzContext): Record<string, unknown> {
  return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, s]) => [k, templateValue(k, s, ctx)]));
}

/**
 * Every way `null` can stand in for a field: each field alone, then all of them at once. Null is
 * never "absent": only fields the document marks `nullable` may hold it.
 */
export function nullBodies(schema: JsonSchema, ctx: FuzzContext): Body[] {
  const props = Object.entries(schema.properties ?? {});
  const single = props.map(([k, s]) => ({ value: { ...templateBody(schema, ctx), [k]: null }, notes: [`${k}: null`], invalid: !s.nullable }));
  const all = { value: Object.fromEntries(props.map(([k]) => [k, null])), notes: ['every field null'], invalid: props.some(([, s]) => !s.nullable) };
  return props.length > 1 ? [...single, all] : single;
}

function bodyArbitrary(schema: JsonSchema, ctx: FuzzContext, onlyInvalid: boolean): fc.Arbitrary<Body> {
  const props = Object.entries(schema.properties ?? {});
  const required = new Set(schema.required ?? []);
  const template = () => templateBody(schema, ctx);
  /** Mutations may hit the same key twice: the last one decides whether that key is broken. */
  type Mutation = (body: Record<string, unknown>) => { key: string; note: string; invalid: boolean };

  const mutations: fc.Arbitrary<Mutation>[] = [
    fc.constantFrom('__proto__', 'constructor', 'prototype', '$where', 'isAdmin', 'passwordHash', 'emailVerified', 'id', 'ownerId', 'status', 'roles', 'toString').chain((key) =>
      hostileValue.map<Mutation>((value) => (body) => {
        if (Object.hasOwn(schema.properties ?? {}, key)) return { key, note: `${key} kept`, invalid: false };
        Object.defineProperty(body, key, { value, enumerable: true, writable: true, configurable: true });
        return { key, note: `unknown key ${key}`, invalid: true };
      }),
    ),
    fc.constant<Mutation>(() => ({ key: '', note: 'nothing broken', invalid: false })),
  ];
  if (props.length) {
    const field = fc.constantFrom(...props);
    mutations.push(
      field.chain(([k, s]) => wrongTypeValue(s.type).map<Mutation>((value) => (body) => ((body[k] = value), { key: k, note: `${k}: wrong type ${JSON.stringify(value)?.slice(0, 40)}`, invalid: true }))),
      field.map<Mutation>(([k, s]) => (body) => {
        body[k] = null;
        return { key: k, note: `${k}: null`, invalid: !s.nullable };
      }),
      field.chain(([k, s]) =>
        hostileString.map<Mutation>((value) => (body) => {
          body[k] = s.type === 'array' ? [value] : value;
          const breaks = s.type === 'string' ? stringBreaks(s, value) : s.type === 'array' ? false : true;
          return { key: k, note: `${k}: ${JSON.stringify(value.slice(0, 40))}${value.length > 40 ? `…(${value.length})` : ''}`, invalid: breaks };
        }),
      ),
    );
  }
  if (required.size) {
    mutations.push(fc.constantFrom(...required).map<Mutation>((k) => (body) => (delete body[k], { key: k, note: `${k}: missing`, invalid: true })));
  }
  if (schema.properties?.permissions) {
    mutations.push(fc.constantFrom(...INVALID_RULES).map<Mutation>((rules) => (body) => ((body.permissions = rules), { key: 'permissions', note: `permissions: ${JSON.stringify(rules).slice(0, 80)}`, invalid: true })));
    mutations.push(
      hostileString.map<Mutation>((value) => (body) => {
        body.permissions = [{ action: 'read', subject: 'Document', conditions: { title: value }, reason: value.slice(0, 200) }];
        return { key: 'permissions', note: `permissions condition ${JSON.stringify(value.slice(0, 40))}`, invalid: value.length > 256 };
      }),
    );
  }
  return fc.array(fc.oneof(...mutations), { minLength: 1, maxLength: 3 }).map((chosen) => {
    const value = template();
    const results = chosen.map((m) => m(value));
    const verdicts = new Map(results.map((r) => [r.key, r.invalid]));
    return { value, notes: results.map((r) => r.note), invalid: [...verdicts.values()].some(Boolean) };
  }).filter((b) => !onlyInvalid || b.invalid);
}

export interface Payload {
  payload?: FuzzRequest['payload'];
  contentType?: string;
  notes: string[];
  invalid: boolean;
}

const JSONISH = /^application\/json\b/i;

/** A JSON body that surely breaks the schema: unparsable, not an object, unknown or missing keys. */
function jsonBreaks(schema: JsonSchema | undefined, raw: string | Buffer): boolean {
  if (!schema) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString());
  } catch {
    return true;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return true;
  const keys = Object.keys(parsed);
  return keys.some((k) => !Object.hasOwn(schema.properties ?? {}, k)) || (schema.required ?? []).some((k) => !keys.includes(k));
}

export function payloadArbitrary(route: FuzzRoute, ctx: FuzzContext, onlyInvalid: boolean): fc.Arbitrary<Payload> {
  const schema = route.body;
  const hasRequired = !!schema?.required?.length;
  const malformed = fc.constantFrom(
    ...MALFORMED_JSON.map<Payload>((raw) => ({
      payload: raw,
      contentType: 'application/json',
      notes: [`raw body ${JSON.stringify((typeof raw === 'string' ? raw.slice(0, 40) : raw.subarray(0, 40)).toString())}${raw.length > 40 ? `…(${raw.length})` : ''}`],
      invalid: jsonBreaks(schema, raw),
    })),
  );
  const other: fc.WeightedArbitrary<Payload>[] = [
    { weight: 2, arbitrary: malformed },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom(...CONTENT_TYPES), fc.constantFrom('{"email":"a@b.c"}', 'email=a%40b.c&password=x', '<a>1</a>', '------x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n------x--')).map<Payload>(([contentType, raw]) => ({
        payload: raw,
        contentType,
        notes: [`content-type ${JSON.stringify(contentType)} body ${JSON.stringify(raw.slice(0, 30))}`],
        invalid: JSONISH.test(contentType) ? jsonBreaks(schema, raw) : hasRequired && contentType.length > 2,
      })),
    },
    { weight: 1, arbitrary: fc.constant<Payload>({ payload: () => JSON.stringify({ a: TWO_MB }), contentType: 'application/json', notes: ['2 MB body'], invalid: !!schema }) },
  ];
  if (!schema) {
    return fc.oneof({ weight: 3, arbitrary: fc.constant<Payload>({ notes: [], invalid: false }) }, ...other).map((p) => ({ ...p, invalid: false }));
  }
  const structured = bodyArbitrary(schema, ctx, false).map<Payload>((b) => ({ payload: () => JSON.stringify(b.value), contentType: 'application/json', notes: b.notes, invalid: b.invalid }));
  const all = fc.oneof({ weight: 6, arbitrary: structured }, ...other);
  return onlyInvalid ? all.filter((p) => p.invalid) : all;
}
