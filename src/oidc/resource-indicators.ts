import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import { type ClientInstance, errors } from 'oidc-provider';
import { SigningKeys } from '../auth/tokens/signing-keys';
import { AppConfig } from '../config/app-config';
import { ResourceServer } from './resource-servers/resource-server.entity';

export interface ResourceServerInfo {
  scope: string;
  audience: string;
  accessTokenTTL: number;
  accessTokenFormat: 'jwt';
  jwt: { sign: { alg: string } };
}

/**
 * RFC 8707 resource indicators: a registered API (resource server) that this client is allowed
 * to call, with the scopes both the API defines and the client may ask for. Its access tokens are
 * JWTs (`typ: at+jwt`) whose `aud` is that API alone.
 */
@Injectable()
export class ResourceIndicators {
  constructor(
    private readonly em: EntityManager,
    private readonly keys: SigningKeys,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  async infoFor(resource: string, client: ClientInstance): Promise<ResourceServerInfo> {
    const allowed = (client.metadata().allowed_resources as string[] | undefined) ?? [];
    if (!allowed.includes(resource)) throw new errors.InvalidTarget('the client may not request tokens for this resource');
    const server = await this.em.fork().findOne(ResourceServer, { audience: resource });
    if (!server) throw new errors.InvalidTarget('no such resource server');
    const clientScopes = new Set((client.metadata().allowed_scopes as string[] | undefined) ?? []);
    const clientTtl = client.metadata().access_token_ttl as number | undefined;
    return {
      scope: server.scopes.filter((s) => clientScopes.has(s)).join(' '),
      audience: server.audience,
      // JWT access tokens cannot be revoked before they expire: the shortest configured lifetime wins.
      accessTokenTTL: Math.min(server.accessTokenTtl ?? this.config.jwt.accessTokenTtl, clientTtl ?? this.config.jwt.accessTokenTtl),
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: this.keys.current.alg } },
    };
  }
}
