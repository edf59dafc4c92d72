import { EntityManager, ForeignKeyConstraintViolationException, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { ChangeFeed } from '../database/change-feed/change-feed.service';
import { emptyPage, pageOf, type ListQuery, type Page } from '../common/pagination/pagination';
import { DomainError } from '../common/problem/domain-error';
import type { AuthContext } from '../policies/auth-context';
import { PolicyEnforcer } from '../policies/policy-enforcer';
import { Department } from './department.entity';

export interface DepartmentView {
  id: string;
  name: string;
  createdAt: string;
}

const toView = (d: Department): DepartmentView => ({ id: d.id, name: d.name, createdAt: d.createdAt.toISOString() });

/** Departments: the tenant boundary most rules are drawn along. Authorized only through policies. */
@Injectable()
export class DepartmentsService {
  constructor(
    private readonly em: EntityManager,
    private readonly enforcer: PolicyEnforcer,
    private readonly audit: AuditService,
    private readonly feed: ChangeFeed,
  ) {}

  async list(auth: AuthContext, query: ListQuery): Promise<Page<Partial<DepartmentView>>> {
    const filter = this.enforcer.filter(auth, 'read', 'Department');
    if (!filter) return emptyPage(query);
    const [rows, total] = await this.em.findAndCount(Department, filter, { orderBy: { name: 'asc', id: 'asc' }, limit: query.limit, offset: query.offset });
    return pageOf(rows.map((d) => this.enforcer.visible(auth, 'Department', { ...toView(d) })), total, query);
  }

  async get(auth: AuthContext, id: string): Promise<Partial<DepartmentView>> {
    const department = await this.load(auth, 'read', id);
    return this.enforcer.visible(auth, 'Department', { ...toView(department) });
  }

  async create(auth: AuthContext, name: string): Promise<DepartmentView> {
    await this.enforcer.assertCreate(auth, 'Department', { name }, { id: null, name });
    const em = this.em.fork();
    const department = em.create(Department, { name });
    await this.flushUnique(em, name);
    await this.audit.record({ type: 'department.created', outcome: 'success', actorId: auth.principal.userId, targetType: 'Department', targetId: department.id, details: { name } });
    return toView(department);
  }

  async rename(auth: AuthContext, id: string, name: string): Promise<DepartmentView> {
    const department = await this.load(auth, 'update', id);
    await this.enforcer.assertFields(auth, 'update', 'Department', { ...toView(department) }, { name });
    department.name = name;
    await this.flushUnique(this.em, name);
    await this.audit.record({ type: 'department.updated', outcome: 'success', actorId: auth.principal.userId, targetType: 'Department', targetId: id, details: { name } });
    return toView(department);
  }

  async remove(auth: AuthContext, id: string): Promise<void> {
    await this.load(auth, 'delete', id);
    try {
      // Members leave with it (the FK would null them silently): say so on the change feed, or
      // every instance's principal cache keeps the deleted department for its TTL.
      await this.feed.transaction(
        async (tx) => {
          const members = await tx.execute<{ id: string }[]>('UPDATE users SET department_id = NULL, updated_at = now() WHERE department_id = ? RETURNING id', [id]);
          await tx.nativeDelete(Department, { id });
          return members.map((m) => m.id);
        },
        (userIds) => userIds.map((userId) => ({ type: 'user.changed' as const, userId })),
      );
    } catch (err) {
      if (err instanceof ForeignKeyConstraintViolationException) throw new DomainError('conflict', 'The department still has documents');
      throw err;
    }
    await this.audit.record({ type: 'department.deleted', outcome: 'success', actorId: auth.principal.userId, targetType: 'Department', targetId: id });
  }

  private async load(auth: AuthContext, action: 'read' | 'update' | 'delete', id: string): Promise<Department> {
    const department = await this.em.findOne(Department, { id });
    if (!department) throw new DomainError('notFound', 'No such Department');
    await this.enforcer.assertCan(auth, action, 'Department', { ...toView(department) });
    return department;
  }

  private async flushUnique(em: EntityManager, name: string): Promise<void> {
    try {
      await em.flush();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw new DomainError('conflict', `A department named "${name}" exists`);
      throw err;
    }
  }
}
