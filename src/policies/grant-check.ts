import { Injectable } from '@nestjs/common';
import { isDeepStrictEqual } from 'node:util';
import { DomainError } from '../common/problem/domain-error';
import type { FieldError } from '../common/problem/problem-details';
import type { AuthContext } from './auth-context';
import { PolicyEnforcer } from './policy-enforcer';
import { isCovered, uninverted } from './rule-coverage';
import type { Role, StoredPermission } from './role.entity';

type RoleRecord = Pick<Role, 'id' | 'name' | 'description' | 'permissions' | 'requireMfa' | 'builtIn'>;

/** A role given to or taken from a user; `field` names it in an error (`roles[0]`). */
export interface RoleAssignment {
  role: RoleRecord;
  field: string;
  removed?: boolean;
}

/** A rule a role write hands to the role's holders; `field` names it in an error (`permissions[2]`). */
export interface RuleGrant {
  rule: StoredPermission;
  field: string;
  /** Given back by dropping a restriction (an inverted rule) rather than written. */
  lifted?: boolean;
}

/**
 * Nobody grants more than they hold (Kubernetes RBAC's escalation prevention): which roles a
 * caller may give or take (`assign` on each role record), and which rules a caller may write into
 * a role (only rules it holds itself, unless it may `escalate` on that role). Every refusal names
 * each offending role or rule and is audited.
 */
@Injectable()
export class GrantCheck {
  constructor(private readonly enforcer: PolicyEnforcer) {}

  async assertAssignable(auth: AuthContext, assignments: RoleAssignment[]): Promise<void> {
    const refused = assignments.filter((a) => !this.enforcer.can(auth, 'assign', 'Role', { ...a.role }));
    if (!refused.length) return;
    const errors = refused.map((a) => ({ field: a.field, message: `you may not ${a.removed ? 'remove' : 'grant'} the role "${a.role.name}" (needs assign on it)` }));
    const names = refused.map((a) => a.role.name).join(', ');
    await this.enforcer.deny(auth, 'assign', 'Role', refused[0].role.id, `roles: ${names}`, new DomainError('forbidden', `You may not assign the roles ${names}`, errors));
  }

  /**
   * `role` is the role as it is (a new role: as it would be), `after` as the change leaves it:
   * `escalate` must allow both, as field checks do. `escalations` are the changes that need
   * `escalate` whatever the rules (requireMfa, a built-in role).
   */
  async assertRoleWrite(auth: AuthContext, role: RoleRecord, grants: RuleGrant[], escalations: FieldError[] = [], after: RoleRecord = role): Promise<void> {
    if (this.enforcer.can(auth, 'escalate', 'Role', { ...role }) && this.enforcer.can(auth, 'escalate', 'Role', { ...after })) return;
    const uncovered = grants
      .filter((g) => !isCovered(g.rule, auth.held))
      .map((g) => ({ field: g.field, message: `you do not hold ${describe(g.rule)}: ${g.lifted ? 'lifting a restriction on it' : 'granting it'} needs escalate on Role` }));
    const errors = [...escalations, ...uncovered];
    if (!errors.length) return;
    await this.enforcer.deny(
      auth,
      'escalate',
      'Role',
      role.id || null,
      `escalation: ${errors.map((e) => e.field).join(', ')}`,
      new DomainError('forbidden', 'This role change would grant more than you hold', errors),
    );
  }
}

/** The rules `permissions` grants, each named by its index. */
export function grantsOf(permissions: StoredPermission[]): RuleGrant[] {
  return permissions.flatMap((rule, i) => (rule.inverted ? [] : [{ rule, field: `permissions[${i}]` }]));
}

/** The restrictions of `before` that `after` drops, as the grants their removal gives back. */
export function liftedRestrictions(before: StoredPermission[], after: StoredPermission[]): RuleGrant[] {
  return before.flatMap((rule) =>
    rule.inverted && !after.some((kept) => isDeepStrictEqual(kept, rule)) ? [{ rule: uninverted(rule), field: 'permissions', lifted: true }] : [],
  );
}

function describe(rule: StoredPermission): string {
  const parts = [`${rule.action} ${rule.subject}`];
  if (rule.fields) parts.push(`fields ${rule.fields.join(', ')}`);
  if (rule.conditions) parts.push(`where ${JSON.stringify(rule.conditions)}`);
  return parts.join(' ');
}
