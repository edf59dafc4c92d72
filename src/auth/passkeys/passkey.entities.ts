import { Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import type { AuthenticatorTransportFuture } from '@simplewebauthn/server';
import { randomUUID } from 'node:crypto';
import { User } from '../../users/user.entity';

/**
 * A user's passkey (WebAuthn credential). `id` is the credential ID as the authenticator sends it
 * (base64url), so a sign-in finds its credential by primary key. `counter` is the last signature
 * counter seen; a response at or below it (when either is non-zero) is refused as a possible clone.
 */
@Entity({ tableName: 'passkey_credentials' })
export class PasskeyCredential {
  [OptionalProps]?: 'counter' | 'transports' | 'createdAt' | 'lastUsedAt';

  @PrimaryKey({ type: 'string', length: 1400 })
  id!: string;

  @ManyToOne({ entity: () => User, deleteRule: 'cascade', index: true })
  user!: User;

  @Property({ type: 'blob', hidden: true })
  publicKey!: Buffer;

  /** A bigint column: MikroORM maps it to a string, so no value is ever rounded. */
  @Property({ type: 'bigint', default: 0 })
  counter: string = '0';

  @Property({ type: 'json', default: '[]' })
  transports: AuthenticatorTransportFuture[] = [];

  @Property({ type: 'string', length: 16 })
  deviceType!: string;

  @Property({ type: 'boolean' })
  backedUp!: boolean;

  @Property({ type: 'string', length: 36 })
  aaguid!: string;

  @Property({ type: 'string', length: 100 })
  name!: string;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'datetime', nullable: true })
  lastUsedAt: Date | null = null;
}

/** A ceremony's challenge in flight: hashed, 5 minutes, deleted by its one use. */
@Entity({ tableName: 'webauthn_challenges' })
export class WebAuthnChallenge {
  [OptionalProps]?: 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 64, unique: true, hidden: true })
  challengeHash!: string;

  @Property({ type: 'string', length: 16 })
  purpose!: string;

  @ManyToOne({ entity: () => User, deleteRule: 'cascade', nullable: true })
  user!: User | null;

  @Index()
  @Property({ type: 'datetime' })
  expiresAt!: Date;

  @Property({ type: 'datetime', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
