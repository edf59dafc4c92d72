import { EntityManager, LockMode, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { ChangeFeed } from '../database/change-feed/change-feed.service';
import { DomainError } from '../common/problem/domain-error';
import type { AuthContext } from './auth-context';
import { validatePermissions } from './permission-validator';
import { PolicyEnforcer } from './policy-enforcer';
import { Role } from './role.entity';

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
    if (!this.enforcer.can(auth, 'create', 'Role', candidate)) {
      await this.enforcer.deny(auth, 'create', 'Role', null, 'no rule allows it', new DomainError('forbidden', 'You may not create this Role'));
    }
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
    const changes: Record<string, unknown> = {};
    if (input.name !== undefined && input.name !== role.name) {
      if (role.builtIn) throw new DomainError('conflict', 'Built-in roles cannot be renamed');
      changes.name = input.name;
    }
    if (input.description !== undefined) changes.description = input.description;
    if (input.requireMfa !== undefined) changes.requireMfa = input.requireMfa;
    if (input.permissions !== undefined) changes.permissions = validatePermissions(input.permissions);
    await this.enforcer.assertFields(auth, 'update', 'Role', { ...toView(role) }, changes);
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
