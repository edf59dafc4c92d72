import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import { Provider } from 'oidc-provider';
import { PasswordHasher } from '../auth/passwords/password-hasher';
import { SigningKeys } from '../auth/tokens/signing-keys';
import { AppConfig } from '../config/app-config';
import { ClientStore } from './clients/client-store';
import { OidcAccounts } from './oidc-accounts';
import { OidcAudit } from './oidc-audit';
import { PgAdapter } from './pg-adapter';
import { OIDC_MOUNT, providerConfiguration } from './provider-configuration';
import { ResourceIndicators } from './resource-indicators';

/** The one oidc-provider instance of this app, issuer `${APP_URL}/oidc`. */
@Injectable()
export class OidcProvider {
  readonly provider: Provider;
  readonly issuer: string;

  constructor(
    em: EntityManager,
    keys: SigningKeys,
    accounts: OidcAccounts,
    resources: ResourceIndicators,
    hasher: PasswordHasher,
    audit: OidcAudit,
    @Inject(AppConfig) config: AppConfig,
  ) {
    if (!config.oidc.cookieSecret) {
      throw new Error('OIDC_COOKIE_SECRET: no cookie key is configured (development generates one at start; production must set it)');
    }
    this.issuer = `${config.appUrl}${OIDC_MOUNT}`;
    const clients = new ClientStore(em);
    const adapter = (model: string) => (model === 'Client' ? clients : new PgAdapter(em, model));
    this.provider = new Provider(this.issuer, providerConfiguration({ config, keys, accounts, resources, adapter }));
    // Koa trusts X-Forwarded-* exactly when Fastify does (TRUST_PROXY).
    this.provider.proxy = config.trustProxy !== false;
    if (typeof config.trustProxy === 'number') this.provider.maxIpsCount = config.trustProxy;
    // Client secrets are stored as Argon2id hashes: compare through the hasher (constant time).
    this.provider.Client.prototype.compareClientSecret = function (actual: string) {
      return this.clientSecret ? hasher.verify(this.clientSecret, actual) : false;
    };
    audit.attach(this.provider);
  }
}
