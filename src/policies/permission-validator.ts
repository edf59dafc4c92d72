import type { FieldError } from '../common/problem/problem-details';
import { validationFailed } from '../common/http/validation.pipe';
import { type Action, ACTIONS, type FieldType, fieldsOf, PLACEHOLDERS, ROLE_ONLY_ACTIONS, SUBJECTS, type SubjectName } from './policy-schema';
import type { StoredPermission } from './role.entity';

export const MAX_RULES = 100;
const MAX_DEPTH = 4;
const MAX_LIST = 100;
const MAX_STRING = 256;
const MAX_JSON_BYTES = 16 * 1024;
const RULE_KEYS = new Set(['action', 'subject', 'conditions', 'fields', 'inverted', 'reason']);
const COMPARISONS = new Set(['$lt', '$lte', '$gt', '$gte']);
const FIELD_OPERATORS = new Set(['$eq', '$ne', '$in', '$nin', '$exists', ...COMPARISONS]);
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
type ConditionType = FieldType | 'jsonText';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/**
 * Validates CASL raw rules before they are stored: known actions, subjects, fields, operators
 * and placeholders only; no `$where`, `$regex`, functions or prototype keys; bounded size. Every
 * problem is reported with its path (`permissions[1].conditions.status.$regex`).
 */
export function validatePermissions(input: unknown, path = 'permissions'): StoredPermission[] {
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) => errors.push({ field, message });
  if (!Array.isArray(input)) throw validationFailed([{ field: path, message: 'must be an array of rules' }]);
  if (input.length > MAX_RULES) throw validationFailed([{ field: path, message: `must have at most ${MAX_RULES} rules` }]);
  if (JSON.stringify(input).length > MAX_JSON_BYTES) throw validationFailed([{ field: path, message: `must be at most ${MAX_JSON_BYTES} bytes` }]);
  input.forEach((rule, i) => validateRule(rule, `${path}[${i}]`, fail));
  if (errors.length) throw validationFailed(errors);
  return input.map((rule: Record<string, unknown>) => {
    const clean: StoredPermission = { action: rule.action as string, subject: rule.subject as string };
    if (rule.conditions !== undefined) clean.conditions = rule.conditions as Record<string, unknown>;
    if (rule.fields !== undefined) clean.fields = rule.fields as string[];
    if (rule.inverted !== undefined) clean.inverted = rule.inverted as boolean;
    if (rule.reason !== undefined) clean.reason = rule.reason as string;
    return clean;
  });
}

function validateRule(rule: unknown, at: string, fail: (field: string, message: string) => void): void {
  if (!isPlainObject(rule)) return fail(at, 'must be an object');
  for (const key of Object.keys(rule)) if (!RULE_KEYS.has(key)) fail(`${at}.${key}`, 'is not a rule property');
  if (typeof rule.action !== 'string' || !(ACTIONS as readonly string[]).includes(rule.action)) {
    fail(`${at}.action`, `must be one of ${ACTIONS.join(', ')}`);
  }
  if (typeof rule.subject !== 'string' || !(SUBJECTS as readonly string[]).includes(rule.subject)) {
    return fail(`${at}.subject`, `must be one of ${SUBJECTS.join(', ')}`);
  }
  if (ROLE_ONLY_ACTIONS.includes(rule.action as Action) && rule.subject !== 'Role') fail(`${at}.subject`, `must be Role for the action ${rule.action as string}`);
  const fields = fieldsOf(rule.subject as SubjectName);
  if (rule.inverted !== undefined && typeof rule.inverted !== 'boolean') fail(`${at}.inverted`, 'must be a boolean');
  if (rule.reason !== undefined && (typeof rule.reason !== 'string' || rule.reason.length > 200)) fail(`${at}.reason`, 'must be a string of at most 200 characters');
  if (rule.fields !== undefined) {
    if (!Array.isArray(rule.fields) || !rule.fields.length || rule.fields.length > 50) fail(`${at}.fields`, 'must be a non-empty array of field names');
    else {
      rule.fields.forEach((f, j) => {
        if (typeof f !== 'string' || !Object.prototype.hasOwnProperty.call(fields, f)) fail(`${at}.fields[${j}]`, `unknown field for ${rule.subject}`);
      });
    }
  }
  if (rule.conditions !== undefined) validateConditions(rule.conditions, fields, `${at}.conditions`, 0, fail);
}

function validateConditions(
  conditions: unknown,
  fields: Record<string, FieldType>,
  at: string,
  depth: number,
  fail: (field: string, message: string) => void,
): void {
  if (!isPlainObject(conditions)) return fail(at, 'must be an object');
  // An empty condition means "no condition": grant nothing by accident; omit `conditions` instead.
  if (!Object.keys(conditions).length) return fail(at, 'must not be empty (omit it for an unconditional rule)');
  if (depth > MAX_DEPTH) return fail(at, `is nested deeper than ${MAX_DEPTH} levels`);
  for (const [key, value] of Object.entries(conditions)) {
    const here = `${at}.${key}`;
    if (FORBIDDEN_KEYS.has(key)) {
      fail(here, 'is not allowed');
    } else if (key === '$and' || key === '$or') {
      if (!Array.isArray(value) || !value.length || value.length > MAX_LIST) fail(here, 'must be a non-empty array of conditions');
      else value.forEach((c, i) => validateConditions(c, fields, `${here}[${i}]`, depth + 1, fail));
    } else if (key.startsWith('$')) {
      fail(here, 'unknown operator');
    } else {
      const type = fieldType(key, fields);
      if (!type) fail(here, 'unknown field');
      else validateFieldCondition(value, type, here, fail);
    }
  }
}

// Names Object.prototype answers to: a JSON path through them would not mean a stored key.
const PROTOTYPE_NAMES = new Set([...Object.getOwnPropertyNames(Object.prototype), '__proto__', 'prototype']);
const isJsonKey = (segment: string) => /^[A-Za-z0-9_]{1,64}$/.test(segment) && !PROTOTYPE_NAMES.has(segment);

/** A column, or a dotted path into a JSON column (`details.reason`, compared as text). */
function fieldType(key: string, fields: Record<string, FieldType>): ConditionType | undefined {
  const [head, ...rest] = key.split('.');
  if (!Object.prototype.hasOwnProperty.call(fields, head)) return undefined;
  const type = fields[head];
  if (rest.length) return type === 'json' && rest.every(isJsonKey) ? 'jsonText' : undefined;
  return type === 'list' || type === 'json' || type === 'computed' ? undefined : type;
}

function validateFieldCondition(value: unknown, type: ConditionType, at: string, fail: (field: string, message: string) => void): void {
  if (!isPlainObject(value)) return validateValue(value, type, at, fail);
  if (!Object.keys(value).length) return fail(at, 'must name at least one operator');
  for (const [op, operand] of Object.entries(value)) {
    const here = `${at}.${op}`;
    if (!FIELD_OPERATORS.has(op)) fail(here, FORBIDDEN_KEYS.has(op) ? 'is not allowed' : 'unknown operator');
    else if (op === '$exists') {
      if (typeof operand !== 'boolean') fail(here, 'must be a boolean');
    }
    else if (op === '$in' || op === '$nin') {
      if (!Array.isArray(operand) || operand.length > MAX_LIST) fail(here, `must be an array of at most ${MAX_LIST} values`);
      else operand.forEach((v, i) => validateValue(v, type, `${here}[${i}]`, fail));
    } else if (COMPARISONS.has(op)) {
      // uuids and booleans have no useful order; JSON text has the database's collation, not "C".
      if (type === 'boolean' || type === 'uuid' || type === 'jsonText') fail(here, `cannot compare a ${type === 'jsonText' ? 'JSON' : type} field`);
      else if (operand === null) fail(here, 'cannot compare with null');
      else validateValue(operand, type, here, fail);
    } else validateValue(operand, type, here, fail);
  }
}

function validateValue(value: unknown, type: ConditionType, at: string, fail: (field: string, message: string) => void): void {
  if (value === null) return;
  if (typeof value === 'string' && value.includes('${')) {
    if (!Object.prototype.hasOwnProperty.call(PLACEHOLDERS, value)) return fail(at, `unknown placeholder; use ${Object.keys(PLACEHOLDERS).join(' or ')}`);
    if (type !== 'uuid') fail(at, 'placeholders stand for ids: use them on id fields');
    return;
  }
  const ok =
    (type === 'uuid' && typeof value === 'string' && UUID.test(value)) ||
    ((type === 'string' || type === 'jsonText') && typeof value === 'string' && value.length <= MAX_STRING) ||
    (type === 'number' && typeof value === 'number' && Number.isFinite(value)) ||
    (type === 'boolean' && typeof value === 'boolean') ||
    (type === 'date' && typeof value === 'string' && !Number.isNaN(Date.parse(value)) && /^[1-9]\d{3}-\d{2}-\d{2}T[\d:.]+Z$/.test(value));
  const name = type === 'date' ? 'UTC ISO 8601 timestamp (years 1000–9999)' : type === 'jsonText' ? 'string' : type;
  if (!ok) fail(at, `must be a ${name}${type === 'string' || type === 'jsonText' ? ` of at most ${MAX_STRING} characters` : ''} or null`);
}
