import { Entity, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { User } from '../../users/user.entity';

/**
 * One sign-in: the family of its refresh tokens (or its cookie secret) and the `sid` claim of its
 * access tokens. Revoking the row revokes all of them, on every instance.
 */
@Entity({ tableName: 'sessions' })
@Index({ properties: ['revokedAt'] })
export class Session {
  [OptionalProps]?: 'createdAt' | 'lastUsedAt' | 'cookieSecretHash' | 'cookiePreviousHash' | 'cookieRotationSalt' | 'cookieRotatedAt' | 'revokedAt' | 'revokedReason' | 'ip' | 'userAgent';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne({ entity: () => User, deleteRule: 'cascade', index: true })
  user!: User;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  lastUsedAt: Date = new Date();

  /** Absolute end of the session (REFRESH_TOKEN_TTL after sign-in). */
  @Property({ type: 'timestamptz' })
  expiresAt!: Date;

  /** When the user authenticated (the `auth_time` claim), in case of step-up checks. */
  @Property({ type: 'timestamptz' })
  authTime!: Date;

  @Property({ type: 'json' })
  amr!: string[];

  @Property({ type: 'string', length: 64, nullable: true })
  ip?: string | null;

  @Property({ type: 'string', length: 512, nullable: true })
  userAgent?: string | null;

  /** SHA-256 of the browser session secret (cookie mode only). */
  @Property({ type: 'string', length: 64, nullable: true, unique: true, hidden: true })
  cookieSecretHash?: string | null;

  /** SHA-256 of the cookie secret before the last rotation: a sibling tab within the grace, or theft after it. */
  @Property({ type: 'string', length: 64, nullable: true, unique: true, hidden: true })
  cookiePreviousHash?: string | null;

  /** Random per rotation; the current secret is HMAC(previous secret, salt), so only the previous secret's holder can derive it. */
  @Property({ type: 'string', length: 64, nullable: true, hidden: true })
  cookieRotationSalt?: string | null;

  @Property({ type: 'timestamptz', nullable: true })
  cookieRotatedAt?: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  revokedAt?: Date | null;

  @Property({ type: 'string', length: 64, nullable: true })
  revokedReason?: string | null;
}
