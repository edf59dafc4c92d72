import { EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { givenFields } from '../../common/http/given-fields';
import { emptyPage, pageOf, type ListQuery, type Page } from '../../common/pagination/pagination';
import { DomainError } from '../../common/problem/domain-error';
import type { AuthContext } from '../../policies/auth-context';
import { PolicyEnforcer } from '../../policies/policy-enforcer';
import type { CreateResourceServerDto, UpdateResourceServerDto } from './resource-server.dto';
import { ResourceServer } from './resource-server.entity';

export interface ResourceServerView {
  id: string;
  name: string;
  audience: string;
  scopes: string[];
  accessTokenTtl: number | null;
  createdAt: string;
  updatedAt: string;
}

const toView = (r: ResourceServer): ResourceServerView => ({
  id: r.id,
  name: r.name,
  audience: r.audience,
  scopes: r.scopes,
  accessTokenTtl: r.accessTokenTtl ?? null,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

/** APIs as data: the audiences and scopes clients may ask access tokens for. Audited; policies decide. */
@Injectable()
export class ResourceServersService {
  constructor(
    private readonly em: EntityManager,
    private readonly enforcer: PolicyEnforcer,
    private readonly audit: AuditService,
  ) {}

  async list(auth: AuthContext, query: ListQuery): Promise<Page<Partial<ResourceServerView>>> {
    const filter = this.enforcer.filter(auth, 'read', 'ResourceServer');
    if (!filter) return emptyPage(query);
    const [rows, total] = await this.em.findAndCount(ResourceServer, filter, { orderBy: { name: 'asc', id: 'asc' }, limit: query.limit, offset: query.offset });
    return pageOf(rows.map((r) => this.enforcer.visible(auth, 'ResourceServer', { ...toView(r) })), total, query);
  }

  async get(auth: AuthContext, id: string): Promise<Partial<ResourceServerView>> {
    return this.enforcer.visible(auth, 'ResourceServer', { ...toView(await this.load(auth, 'read', id)) });
  }

  async create(auth: AuthContext, body: CreateResourceServerDto): Promise<ResourceServerView> {
    const em = this.em.fork();
    const server = em.create(ResourceServer, { scopes: [], ...givenFields(body), name: body.name, audience: body.audience });
    if (!this.enforcer.can(auth, 'create', 'ResourceServer', { ...toView(server) })) {
      await this.enforcer.deny(auth, 'create', 'ResourceServer', null, 'no rule allows it', new DomainError('forbidden', 'You may not create this ResourceServer'));
    }
    await this.flushUnique(em, server.audience);
    await this.record(auth, 'resource_server.created', server, { audience: server.audience });
    return toView(server);
  }

  async update(auth: AuthContext, id: string, body: UpdateResourceServerDto): Promise<ResourceServerView> {
    const server = await this.load(auth, 'update', id);
    const changes = givenFields(body);
    await this.enforcer.assertFields(auth, 'update', 'ResourceServer', { ...toView(server) }, changes);
    this.em.assign(server, changes);
    await this.em.flush();
    await this.record(auth, 'resource_server.updated', server, { fields: Object.keys(changes) });
    return toView(server);
  }

  async remove(auth: AuthContext, id: string): Promise<void> {
    const server = await this.load(auth, 'delete', id);
    const users: { n: number }[] = await this.em.execute(`SELECT count(*)::int AS n FROM oidc_clients WHERE resources @> ?::jsonb`, [JSON.stringify([server.audience])]);
    if (users[0].n > 0) throw new DomainError('conflict', 'Clients may still ask tokens for this resource server; remove it from their resources first');
    await this.em.nativeDelete(ResourceServer, { id });
    await this.record(auth, 'resource_server.deleted', server, { audience: server.audience });
  }

  private async load(auth: AuthContext, action: 'read' | 'update' | 'delete', id: string): Promise<ResourceServer> {
    const server = await this.em.findOne(ResourceServer, { id });
    if (!server) throw new DomainError('notFound', 'No such ResourceServer');
    await this.enforcer.assertCan(auth, action, 'ResourceServer', { ...toView(server) });
    return server;
  }

  private async flushUnique(em: EntityManager, audience: string): Promise<void> {
    try {
      await em.flush();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw new DomainError('conflict', `A resource server with audience "${audience}" exists`);
      throw err;
    }
  }

  private record(auth: AuthContext, type: string, server: ResourceServer, details: Record<string, unknown>): Promise<void> {
    return this.audit.record({ type, outcome: 'success', actorId: auth.principal.userId, targetType: 'ResourceServer', targetId: server.id, details });
  }
}
