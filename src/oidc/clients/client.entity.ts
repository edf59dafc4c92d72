import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

/** An application registered to sign users in through Bastion (an OAuth client / OIDC relying party). */
@Entity({ tableName: 'oidc_clients' })
export class Client {
  [OptionalProps]?: 'createdAt' | 'updatedAt' | 'secretHash' | 'backchannelLogoutUri' | 'accessTokenTtl' | 'firstParty';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  /** The OAuth `client_id`: random, public. */
  @Property({ type: 'string', length: 64, unique: true })
  clientId!: string;

  @Property({ type: 'string', length: 100 })
  name!: string;

  /** Argon2id hash of the client secret (shown once, at creation or rotation). */
  @Property({ type: 'text', nullable: true, hidden: true, lazy: false })
  secretHash?: string | null;

  @Property({ type: 'json' })
  redirectUris!: string[];

  @Property({ type: 'json' })
  postLogoutRedirectUris!: string[];

  @Property({ type: 'json' })
  grantTypes!: string[];

  @Property({ type: 'json' })
  scopes!: string[];

  /** Audiences (resource server URIs) this client may ask access tokens for. */
  @Property({ type: 'json' })
  resources!: string[];

  /** Bastion's own apps: no consent page. */
  @Property({ type: 'boolean', default: false })
  firstParty: boolean = false;

  @Property({ type: 'string', length: 2048, nullable: true })
  backchannelLogoutUri?: string | null;

  /** Seconds; null means the default. */
  @Property({ type: 'integer', nullable: true })
  accessTokenTtl?: number | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
