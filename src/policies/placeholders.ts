import { PLACEHOLDERS, type Placeholder } from './policy-schema';
import type { StoredPermission } from './role.entity';

export interface PlaceholderValues {
  id: string;
  departmentId: string | null;
}

const isPlaceholder = (v: unknown): v is Placeholder => typeof v === 'string' && Object.prototype.hasOwnProperty.call(PLACEHOLDERS, v);

function substitute(value: unknown, values: PlaceholderValues, unresolved: { found: boolean }): unknown {
  if (isPlaceholder(value)) {
    const resolved = values[PLACEHOLDERS[value]];
    if (resolved === null) unresolved.found = true;
    return resolved;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, values, unresolved));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substitute(v, values, unresolved);
    return out;
  }
  return value;
}

/**
 * Replaces `${user.id}` / `${user.departmentId}` by the principal's values (values, never query
 * text). A granting rule whose placeholder has no value (a user without a department) is dropped:
 * "your department" must not come to mean "records without a department". A restricting
 * (inverted) rule keeps the NULL and so stays as strict as it can be.
 */
export function resolvePlaceholders(rules: StoredPermission[], values: PlaceholderValues): StoredPermission[] {
  const resolved: StoredPermission[] = [];
  for (const rule of rules) {
    if (!rule.conditions) {
      resolved.push(rule);
      continue;
    }
    const unresolved = { found: false };
    const conditions = substitute(rule.conditions, values, unresolved) as Record<string, unknown>;
    if (unresolved.found && !rule.inverted) continue;
    resolved.push({ ...rule, conditions });
  }
  return resolved;
}
