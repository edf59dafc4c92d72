import { EntityManager, LockMode, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { ChangeFeed } from '../database/change-feed/change-feed.service';
import { DomainError } from '../common/problem/domain-error';
import type { FieldError } from '../common/problem/problem-details';
import type { AuthContext } from './auth-context';
import { GrantCheck, grantsOf, liftedRestrictions, type RuleGrant } from './grant-check';
import { validatePermissions } from './permission-validator';
import { PolicyEnforcer } from './policy-enforcer';
import { Role, type StoredPermission } from './role.entity';

export interface RoleInput {
  name?: string;
  description?: string;
  permissions?: unknown;
  requireMfa?: boolean;
}

export interface RoleView {
  id: string;
  name: string;
  description: string;
  permissions: Role['permissions'];
  requireMfa: boolean;
  builtIn: boolean;
}

const toView = (r: Role): RoleView => ({ id: r.id, name: r.name, description: r.description, permissions: r.permissions, requireMfa: r.requireMfa, builtIn: r.builtIn });

/** Roles are policy: every change is validated, audited, and reaches every instance within 1 s. */
@Injectable()
export class RolesService {
  constructor(
    private readonly em: EntityManager,
    private readonly feed: ChangeFeed,
    private readonly enforcer: PolicyEnforcer,
    private readonly audit: AuditService,
    private readonly grants: GrantCheck,
  ) {}

  async list(auth: AuthContext): Promise<RoleView[]> {
    const filter = this.enforcer.filter(auth, 'read', 'Role');
    if (!filter) return [];
    const roles = await this.em.find(Role, filter, { orderBy: { name: 'asc' }, limit: 1000 });
    return roles.map((r) => this.enforcer.visible(auth, 'Role', { ...toView(r) }) as RoleView);
  }

  async get(auth: AuthContext, id: string): Promise<RoleView> {
    const role = await this.load(auth, 'read', id);
    return this.enforcer.visible(auth, 'Role', { ...toView(role) }) as RoleView;
  }

  async create(auth: AuthContext, input: Required<Pick<RoleInput, 'name' | 'permissions'>> & RoleInput): Promise<RoleView> {
    const permissions = validatePermissions(input.permissions);
    const candidate = { id: '', name: input.name, description: input.description ?? '', permissions, requireMfa: input.requireMfa ?? false, builtIn: false };
    await this.enforcer.assertCreate(auth, 'Role', { name: input.name, description: input.description, permissions, requireMfa: input.requireMfa }, candidate);
    await this.grants.assertRoleWrite(auth, candidate, grantsOf(permissions));
    try {
      const role = await this.feed.transaction(
        async (tx) => {
          const created = tx.create(Role, { name: input.name, description: candidate.description, permissions, requireMfa: candidate.requireMfa, builtIn: false });
          await tx.flush();
          return created;
        },
        () => [{ type: 'policies.changed' }],
      );
      await this.audit.record({ type: 'role.created', outcome: 'success', actorId: auth.principal.userId, targetType: 'Role', targetId: role.id, details: { name: role.name, requireMfa: role.requireMfa, rules: permissions.length } });
      return toView(role);
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw new DomainError('conflict', `A role named "${input.name}" exists`);
      throw err;
    }
  }

  async update(auth: AuthContext, id: string, input: RoleInput): Promise<RoleView> {
    const role = await this.load(auth, 'update', id);
    const changes: { name?: string; description?: string; requireMfa?: boolean; permissions?: StoredPermission[] } = {};
    if (input.name !== undefined && input.name !== role.name) {
      if (role.builtIn) throw new DomainError('conflict', 'Built-in roles cannot be renamed');
      changes.name = input.name;
    }
    if (input.description !== undefined) changes.description = input.description;
    if (input.requireMfa !== undefined) changes.requireMfa = input.requireMfa;
    if (input.permissions !== undefined) changes.permissions = validatePermissions(input.permissions);
    await this.enforcer.assertFields(auth, 'update', 'Role', { ...toView(role) }, changes);
    await this.grants.assertRoleWrite(auth, toView(role), grantsOfUpdate(role, changes), escalationsOf(role, changes), { ...toView(role), ...changes });
    try {
      const updated = await this.feed.transaction(
        async (tx) => {
          const fresh = await tx.findOneOrFail(Role, id, { lockMode: LockMode.PESSIMISTIC_WRITE });
          tx.assign(fresh, changes);
          await tx.flush();
          return fresh;
        },
        () => [{ type: 'policies.changed' }],
      );
      await this.audit.record({ type: 'role.updated', outcome: 'success', actorId: auth.principal.userId, targetType: 'Role', targetId: id, details: { fields: Object.keys(changes) } });
      return toView(updated);
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw new DomainError('conflict', `A role named "${input.name}" exists`);
      throw err;
    }
  }

  async remove(auth: AuthContext, id: string): Promise<void> {
    const role = await this.load(auth, 'delete', id);
    if (role.builtIn) throw new DomainError('conflict', 'Built-in roles cannot be deleted');
    await this.grants.assertRoleWrite(auth, toView(role), liftedRestrictions(role.permissions, []));
    await this.feed.transaction(
      async (tx) => {
        await tx.nativeDelete(Role, { id });
      },
      () => [{ type: 'policies.changed' }],
    );
    await this.audit.record({ type: 'role.deleted', outcome: 'success', actorId: auth.principal.userId, targetType: 'Role', targetId: id, details: { name: role.name } });
  }

  private async load(auth: AuthContext, action: 'read' | 'update' | 'delete', id: string): Promise<Role> {
    const role = await this.em.findOne(Role, { id });
    if (!role) throw new DomainError('notFound', 'No such Role');
    await this.enforcer.assertCan(auth, action, 'Role', { ...toView(role) });
    return role;
  }
}

/**
 * What an update hands to the role's holders: the rules written, and what dropping a restriction
 * gives back. A rename hands the role's rules to a new name (which `assign` rules may allow), so it
 * counts as writing them.
 */
function grantsOfUpdate(role: Role, changes: { name?: unknown; permissions?: StoredPermission[] }): RuleGrant[] {
  if (changes.permissions) return [...grantsOf(changes.permissions), ...liftedRestrictions(role.permissions, changes.permissions)];
  return changes.name !== undefined ? grantsOf(role.permissions) : [];
}

/** Changes that need `escalate` even when every rule is covered. */
function escalationsOf(role: Role, changes: { requireMfa?: unknown }): FieldError[] {
  const escalations: FieldError[] = [];
  if (role.builtIn) escalations.push({ field: 'builtIn', message: 'editing a built-in role needs escalate on Role' });
  if (changes.requireMfa !== undefined && changes.requireMfa !== role.requireMfa) escalations.push({ field: 'requireMfa', message: 'changing requireMfa needs escalate on Role' });
  return escalations;
}
