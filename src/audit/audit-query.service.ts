import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { emptyPage, pageOf, type ListQuery, type Page } from '../common/pagination/pagination';
import type { AuthContext } from '../policies/auth-context';
import { PolicyEnforcer } from '../policies/policy-enforcer';
import { AuditEvent } from './audit-event.entity';

export interface AuditQuery extends ListQuery {
  type?: string;
  actorId?: string;
  targetId?: string;
  since?: string;
  until?: string;
}

export interface AuditEventView {
  id: string;
  type: string;
  at: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  outcome: string;
  details: Record<string, unknown>;
}

const toView = (e: AuditEvent): AuditEventView => ({
  id: e.id,
  type: e.type,
  at: e.at.toISOString(),
  actorId: e.actorId ?? null,
  targetType: e.targetType ?? null,
  targetId: e.targetId ?? null,
  ip: e.ip ?? null,
  userAgent: e.userAgent ?? null,
  requestId: e.requestId ?? null,
  outcome: e.outcome,
  details: e.details,
});

/** Reading the audit log (there is no route that changes it; the database refuses anyway). */
@Injectable()
export class AuditQueryService {
  constructor(
    private readonly em: EntityManager,
    private readonly enforcer: PolicyEnforcer,
  ) {}

  async list(auth: AuthContext, query: AuditQuery): Promise<Page<Partial<AuditEventView>>> {
    const policy = this.enforcer.filter(auth, 'read', 'AuditEvent');
    if (!policy) return emptyPage(query);
    const where: Record<string, unknown>[] = [policy];
    if (query.type) where.push({ type: query.type });
    if (query.actorId) where.push({ actorId: query.actorId });
    if (query.targetId) where.push({ targetId: query.targetId });
    if (query.since) where.push({ at: { $gte: new Date(query.since) } });
    if (query.until) where.push({ at: { $lt: new Date(query.until) } });
    const [rows, total] = await this.em.findAndCount(AuditEvent, { $and: where }, { orderBy: { at: 'desc', id: 'desc' }, limit: query.limit, offset: query.offset });
    return pageOf(rows.map((e) => this.enforcer.visible(auth, 'AuditEvent', { ...toView(e) })), total, query);
  }
}
