import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { PasswordHasher } from '../../auth/passwords/password-hasher';
import { randomSecret } from '../../common/crypto/secrets';
import { givenFields } from '../../common/http/given-fields';
import { validationFailed } from '../../common/http/validation.pipe';
import { emptyPage, pageOf, type ListQuery, type Page } from '../../common/pagination/pagination';
import { DomainError } from '../../common/problem/domain-error';
import type { AuthContext } from '../../policies/auth-context';
import { PolicyEnforcer } from '../../policies/policy-enforcer';
import { OidcProvider } from '../oidc-provider.service';
import { ResourceServer } from '../resource-servers/resource-server.entity';
import type { CreateClientDto, UpdateClientDto } from './client.dto';
import { Client } from './client.entity';
import { clientMetadata } from './client-metadata';
import { clientRuleErrors, fieldOfProviderError } from './client-rules';
import { type ClientView, toClientView } from './client-view';

const DEFAULTS = { redirectUris: [], postLogoutRedirectUris: [], grantTypes: ['authorization_code', 'refresh_token'], scopes: ['openid', 'profile', 'email'], resources: [] };

/**
 * OAuth clients as data (the admin API): validated against Bastion's rules and oidc-provider's own
 * metadata checks before they are stored, secrets shown once and kept as Argon2id hashes, every
 * change audited. Authorized only through policies (subject `Client`).
 */
@Injectable()
export class ClientsService {
  constructor(
    private readonly em: EntityManager,
    private readonly enforcer: PolicyEnforcer,
    private readonly audit: AuditService,
    private readonly hasher: PasswordHasher,
    private readonly oidc: OidcProvider,
  ) {}

  async list(auth: AuthContext, query: ListQuery): Promise<Page<Partial<ClientView>>> {
    const filter = this.enforcer.filter(auth, 'read', 'Client');
    if (!filter) return emptyPage(query);
    const [rows, total] = await this.em.findAndCount(Client, filter, { orderBy: { name: 'asc', id: 'asc' }, limit: query.limit, offset: query.offset });
    return pageOf(rows.map((c) => this.enforcer.visible(auth, 'Client', { ...toClientView(c) })), total, query);
  }

  async get(auth: AuthContext, id: string): Promise<Partial<ClientView>> {
    const client = await this.load(auth, 'read', id);
    return this.enforcer.visible(auth, 'Client', { ...toClientView(client) });
  }

  async create(auth: AuthContext, body: CreateClientDto): Promise<ClientView & { clientSecret: string }> {
    const em = this.em.fork();
    const given = givenFields(body);
    const secret = randomSecret();
    const client = em.create(Client, { ...DEFAULTS, ...given, name: body.name, clientId: randomSecret(18), secretHash: await this.hasher.hash(secret) });
    if (!this.enforcer.can(auth, 'create', 'Client', { ...toClientView(client) })) {
      await this.enforcer.deny(auth, 'create', 'Client', null, 'no rule allows it', new DomainError('forbidden', 'You may not create this Client'));
    }
    await this.assertValid(client);
    await em.flush();
    await this.record(auth, 'client.created', client, { name: client.name, fields: Object.keys(given) });
    return { ...toClientView(client), clientSecret: secret };
  }

  async update(auth: AuthContext, id: string, body: UpdateClientDto): Promise<ClientView> {
    const client = await this.load(auth, 'update', id);
    const changes = givenFields(body);
    await this.enforcer.assertFields(auth, 'update', 'Client', { ...toClientView(client) }, changes);
    this.em.assign(client, changes);
    await this.assertValid(client);
    await this.em.flush();
    await this.record(auth, 'client.updated', client, { fields: Object.keys(changes) });
    return toClientView(client);
  }

  /** A new secret, shown once; the old one stops working at once. */
  async rotateSecret(auth: AuthContext, id: string): Promise<ClientView & { clientSecret: string }> {
    const client = await this.load(auth, 'update', id);
    const secret = randomSecret();
    client.secretHash = await this.hasher.hash(secret);
    await this.em.flush();
    await this.record(auth, 'client.secret_rotated', client);
    return { ...toClientView(client), clientSecret: secret };
  }

  /** Deletes the client and everything the provider issued to it (codes, tokens, grants, sessions' references). */
  async remove(auth: AuthContext, id: string): Promise<void> {
    const client = await this.load(auth, 'delete', id);
    await this.em.fork().transactional(async (tx) => {
      await tx.execute(`DELETE FROM oidc_models WHERE payload->>'clientId' = ?`, [client.clientId]);
      await tx.nativeDelete(Client, { id });
    });
    await this.record(auth, 'client.deleted', client);
  }

  private async assertValid(client: Client): Promise<void> {
    const audiences = client.resources.length ? await this.em.fork().find(ResourceServer, { audience: { $in: client.resources } }) : [];
    const errors = clientRuleErrors(client, new Set(audiences.map((r) => r.audience)));
    if (errors.length) throw validationFailed(errors);
    try {
      await this.oidc.provider.Client.validate(clientMetadata(client));
    } catch (err) {
      const description = (err as { error_description?: string }).error_description;
      if (!description) throw err;
      throw validationFailed([fieldOfProviderError(description)]);
    }
  }

  private async load(auth: AuthContext, action: 'read' | 'update' | 'delete', id: string): Promise<Client> {
    const client = await this.em.findOne(Client, { id });
    if (!client) throw new DomainError('notFound', 'No such Client');
    await this.enforcer.assertCan(auth, action, 'Client', { ...toClientView(client) });
    return client;
  }

  private record(auth: AuthContext, type: string, client: Client, details: Record<string, unknown> = {}): Promise<void> {
    return this.audit.record({ type, outcome: 'success', actorId: auth.principal.userId, targetType: 'Client', targetId: client.id, details: { clientId: client.clientId, ...details } });
  }
}
