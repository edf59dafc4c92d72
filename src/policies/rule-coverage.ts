import { isDeepStrictEqual } from 'node:util';
import type { StoredPermission } from './role.entity';

/**
 * "Nobody grants more than they hold" (Kubernetes RBAC's escalation rule), decided on rules as
 * stored. Conservative: it may refuse a rule the caller in fact holds, never allow one it does not.
 *
 * A granting rule written into a role is covered by one of the caller's granting rules when that
 * rule's action is the same or `manage`, its subject the same or `all`, its fields (if any) include
 * every field the written rule names (a written rule without fields needs a caller rule without
 * fields), and its conditions (if any) appear, key by key and exactly equal, in the written rule's
 * conditions: the written rule is then the caller's rule AND more, so it matches no record the
 * caller's does not. Placeholders are compared as written, unresolved: `${user.departmentId}`
 * covers only `${user.departmentId}` (a right relative to its holder delegates the same relative
 * right), never a literal id, and a literal never covers a placeholder.
 *
 * An inverted rule of the caller's that touches the written rule (overlapping action and subject)
 * leaves it uncovered: the caller's grant is then not what it seems, and reasoning about the
 * exception is where a permissive check would go wrong.
 *
 * Writing an inverted rule needs no coverage: it only takes rights away from the role's holders.
 * Removing one gives back what it withheld; callers check that as the grant `uninverted` makes.
 */
export function isCovered(written: StoredPermission, held: StoredPermission[]): boolean {
  if (written.inverted) return true;
  if (held.some((rule) => rule.inverted && touches(rule, written))) return false;
  return held.some((rule) => !rule.inverted && covers(rule, written));
}

/** The grant an inverted rule withholds: what removing the restriction gives back. */
export function uninverted(rule: StoredPermission): StoredPermission {
  const { inverted: _inverted, reason: _reason, ...grant } = rule;
  return grant;
}

const actionCovers = (held: string, written: string) => held === written || held === 'manage';
const subjectCovers = (held: string, written: string) => held === written || held === 'all';
const overlaps = (a: string, b: string, wildcard: string) => a === b || a === wildcard || b === wildcard;

function touches(restriction: StoredPermission, written: StoredPermission): boolean {
  return overlaps(restriction.action, written.action, 'manage') && overlaps(restriction.subject, written.subject, 'all');
}

function covers(held: StoredPermission, written: StoredPermission): boolean {
  if (!actionCovers(held.action, written.action) || !subjectCovers(held.subject, written.subject)) return false;
  if (held.fields && !(written.fields && written.fields.every((field) => held.fields!.includes(field)))) return false;
  if (!held.conditions) return true;
  const conditions = written.conditions;
  return (
    conditions !== undefined &&
    Object.entries(held.conditions).every(([key, value]) => Object.prototype.hasOwnProperty.call(conditions, key) && isDeepStrictEqual(conditions[key], value))
  );
}
