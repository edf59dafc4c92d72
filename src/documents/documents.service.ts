import { EntityManager, ForeignKeyConstraintViolationException } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { validationFailed } from '../common/http/validation.pipe';
import { emptyPage, pageOf, likePattern, type ListQuery, type Page } from '../common/pagination/pagination';
import { DomainError } from '../common/problem/domain-error';
import type { AuthContext } from '../policies/auth-context';
import { PolicyEnforcer } from '../policies/policy-enforcer';
import { Classification, Document, DocumentStatus } from './document.entity';

export interface DocumentView {
  id: string;
  title: string;
  body: string;
  status: DocumentStatus;
  classification: Classification;
  departmentId: string;
  ownerId: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface DocumentListQuery extends ListQuery {
  status?: DocumentStatus;
  q?: string;
}

export interface NewDocument {
  title: string;
  body: string;
  classification?: Classification;
  departmentId?: string;
}

export interface DocumentChanges {
  title?: string;
  body?: string;
  classification?: Classification;
}

const toView = (d: Document): DocumentView => ({
  id: d.id,
  title: d.title,
  body: d.body,
  status: d.status,
  classification: d.classification,
  departmentId: d.departmentId,
  ownerId: d.ownerId,
  version: d.version,
  createdAt: d.createdAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
});

/**
 * Documents, decided twice (DESIGN "check twice"): the guard checked action × type; here every
 * record and every changed field is checked, and lists are filtered in SQL from the same rules.
 */
@Injectable()
export class DocumentsService {
  constructor(
    private readonly em: EntityManager,
    private readonly enforcer: PolicyEnforcer,
    private readonly audit: AuditService,
  ) {}

  async list(auth: AuthContext, query: DocumentListQuery): Promise<Page<Partial<DocumentView>>> {
    const policy = this.enforcer.filter(auth, 'read', 'Document');
    if (!policy) return emptyPage(query);
    const where: Record<string, unknown>[] = [policy];
    if (query.status) where.push({ status: query.status });
    if (query.q) where.push({ title: { $ilike: likePattern(query.q) } });
    const [rows, total] = await this.em.findAndCount(Document, { $and: where }, {
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit: query.limit,
      offset: query.offset,
    });
    return pageOf(rows.map((d) => this.enforcer.visible(auth, 'Document', { ...toView(d) })), total, query);
  }

  async get(auth: AuthContext, id: string): Promise<Partial<DocumentView>> {
    const document = await this.load(auth, 'read', id);
    return this.enforcer.visible(auth, 'Document', { ...toView(document) });
  }

  async create(auth: AuthContext, input: NewDocument): Promise<Partial<DocumentView>> {
    const departmentId = input.departmentId ?? auth.principal.departmentId;
    if (!departmentId) throw validationFailed([{ field: 'departmentId', message: 'is required: you belong to no department' }]);
    const em = this.em.fork();
    const document = em.create(Document, {
      title: input.title,
      body: input.body,
      classification: input.classification ?? Classification.Internal,
      departmentId,
      ownerId: auth.principal.userId,
    });
    // The record as it would be created, and each field the body sets, must be allowed by `create`.
    await this.enforcer.assertCreate(auth, 'Document', { ...input }, { ...toView(document) });
    try {
      await em.flush();
    } catch (err) {
      if (err instanceof ForeignKeyConstraintViolationException) throw validationFailed([{ field: 'departmentId', message: 'no such department' }]);
      throw err;
    }
    await this.record(auth, 'document.created', document.id, { departmentId, classification: document.classification });
    return this.enforcer.visible(auth, 'Document', { ...toView(document) });
  }

  async update(auth: AuthContext, id: string, changes: DocumentChanges, version: number): Promise<Partial<DocumentView>> {
    const document = await this.load(auth, 'update', id);
    const changed = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
    await this.enforcer.assertFields(auth, 'update', 'Document', { ...toView(document) }, changed);
    return this.write(auth, document, changed, version, 'document.updated');
  }

  async publish(auth: AuthContext, id: string): Promise<Partial<DocumentView>> {
    const document = await this.load(auth, 'publish', id);
    // Publishing is idempotent: an already published document is answered as it is.
    if (document.status === DocumentStatus.Published) return this.enforcer.visible(auth, 'Document', { ...toView(document) });
    return this.write(auth, document, { status: DocumentStatus.Published }, document.version, 'document.published');
  }

  async remove(auth: AuthContext, id: string): Promise<void> {
    await this.load(auth, 'delete', id);
    // The check above read the row; a publish committed since must not let an editor delete what
    // is no longer theirs to delete, so the delete rules go into the DELETE itself.
    const policy = this.enforcer.filter(auth, 'delete', 'Document');
    const deleted = policy ? await this.em.nativeDelete(Document, { $and: [{ id }, policy] }) : 0;
    if (!deleted) {
      // It changed under us: the fresh row (not the identity map's copy) decides the answer
      // (404 gone, 403 no longer deletable).
      await this.load(auth, 'delete', id, this.em.fork());
      throw new DomainError('versionConflict', 'The document changed while it was being deleted; reload it and retry');
    }
    await this.record(auth, 'document.deleted', id, {});
  }

  /** Optimistic locking: the row changes only if it is still at `version`. */
  private async write(auth: AuthContext, document: Document, changes: Record<string, unknown>, version: number, type: string): Promise<Partial<DocumentView>> {
    const updated = await this.em.nativeUpdate(Document, { id: document.id, version }, { ...changes, version: version + 1, updatedAt: new Date() });
    if (!updated) throw new DomainError('versionConflict', `The document changed since version ${version}; reload it and retry`);
    await this.record(auth, type, document.id, { fields: Object.keys(changes), version: version + 1 });
    const fresh = await this.em.fork().findOneOrFail(Document, { id: document.id });
    return this.enforcer.visible(auth, 'Document', { ...toView(fresh) });
  }

  private async load(auth: AuthContext, action: 'read' | 'update' | 'delete' | 'publish', id: string, em: EntityManager = this.em): Promise<Document> {
    const document = await em.findOne(Document, { id });
    if (!document) throw new DomainError('notFound', 'No such Document');
    await this.enforcer.assertCan(auth, action, 'Document', { ...toView(document) });
    return document;
  }

  private record(auth: AuthContext, type: string, id: string, details: Record<string, unknown>): Promise<void> {
    return this.audit.record({ type, outcome: 'success', actorId: auth.principal.userId, targetType: 'Document', targetId: id, details });
  }
}
