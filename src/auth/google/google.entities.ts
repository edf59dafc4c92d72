import { Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { User } from '../../users/user.entity';

/** A sign-in identity at an external provider, keyed by provider + subject — never by email (ASVS 6.8.1). */
@Entity({ tableName: 'external_identities' })
@Unique({ properties: ['provider', 'subject'] })
export class ExternalIdentity {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 32 })
  provider!: string;

  @Property({ type: 'string', length: 255 })
  subject!: string;

  @ManyToOne({ entity: () => User, deleteRule: 'cascade', index: true })
  user!: User;

  /** The provider's email at link time (for the audit trail; never used to find the user). */
  @Property({ type: 'string', length: 254 })
  email!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}

/** OAuth `state` + PKCE verifier of one started flow: single use, 10 minutes, bound to the browser. */
@Entity({ tableName: 'oauth_states' })
@Index({ properties: ['expiresAt'] })
export class OAuthState {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 64, unique: true })
  stateHash!: string;

  /** The PKCE code verifier, encrypted like TOTP secrets. */
  @Property({ type: 'text', hidden: true })
  verifierCiphertext!: string;

  @Property({ type: 'string', length: 16 })
  keyId!: string;

  /** SHA-256 of the nonce in the browser's signed cookie. */
  @Property({ type: 'string', length: 64 })
  browserHash!: string;

  @Property({ type: 'timestamptz' })
  expiresAt!: Date;
}

/** The one-time code handed to OAUTH_SUCCESS_REDIRECT: 60 s, single use, stored hashed. */
@Entity({ tableName: 'oauth_exchange_codes' })
export class OAuthExchangeCode {
  [OptionalProps]?: 'usedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 64, unique: true })
  codeHash!: string;

  @ManyToOne({ entity: () => User, deleteRule: 'cascade' })
  user!: User;

  @Property({ type: 'json' })
  amr!: string[];

  @Property({ type: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  usedAt?: Date | null;
}
