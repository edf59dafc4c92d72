import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { User } from '../../users/user.entity';

export enum TotpStatus {
  Pending = 'pending',
  Active = 'active',
}

/**
 * A user's TOTP factor. The secret is stored only encrypted (AES-256-GCM, `keyId` names the key);
 * `lastUsedStep` makes every accepted time step single use, updated atomically.
 */
@Entity({ tableName: 'totp_factors' })
export class TotpFactor {
  [OptionalProps]?: 'createdAt' | 'enabledAt' | 'lastUsedStep';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne({ entity: () => User, deleteRule: 'cascade', unique: true })
  user!: User;

  @Enum({ items: () => TotpStatus })
  status!: TotpStatus;

  @Property({ type: 'text', hidden: true })
  secretCiphertext!: string;

  @Property({ type: 'string', length: 16 })
  keyId!: string;

  @Property({ type: 'bigint', nullable: true })
  lastUsedStep?: string | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  enabledAt?: Date | null;
}

/** One recovery code: an Argon2id hash, single use. */
@Entity({ tableName: 'recovery_codes' })
@Index({ properties: ['user', 'usedAt'] })
export class RecoveryCode {
  [OptionalProps]?: 'createdAt' | 'usedAt' | 'lookup';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne({ entity: () => User, deleteRule: 'cascade' })
  user!: User;

  /** The code's first group, unique within the user's set: the one row a use is checked against. Null for codes issued before identifiers (checked the old way until regenerated). */
  @Property({ type: 'string', length: 4, nullable: true })
  lookup?: string | null;

  @Property({ type: 'text', hidden: true })
  codeHash!: string;

  @Property({ type: 'timestamptz', nullable: true })
  usedAt?: Date | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}

/** The pending second step of a sign-in (`mfaToken`): 5 minutes, 5 attempts, single use. */
@Entity({ tableName: 'mfa_challenges' })
export class MfaChallenge {
  [OptionalProps]?: 'createdAt' | 'attempts' | 'usedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne({ entity: () => User, deleteRule: 'cascade', index: true })
  user!: User;

  @Property({ type: 'string', length: 64, unique: true, hidden: true })
  tokenHash!: string;

  /** The first factor's `amr` (pwd or google); `otp` is added on success. */
  @Property({ type: 'json' })
  amr!: string[];

  @Property({ type: 'integer', default: 0 })
  attempts: number = 0;

  @Property({ type: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  usedAt?: Date | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
