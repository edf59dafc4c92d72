import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { User } from '../../users/user.entity';

export enum EmailTokenPurpose {
  VerifyEmail = 'verify_email',
  ResetPassword = 'reset_password',
  ChangeEmail = 'change_email',
}

/** A one-time link token (verification, password reset), stored only as its SHA-256. */
@Entity({ tableName: 'email_tokens' })
@Index({ properties: ['user', 'purpose'] })
export class EmailToken {
  [OptionalProps]?: 'createdAt' | 'usedAt' | 'newEmail';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne({ entity: () => User, deleteRule: 'cascade' })
  user!: User;

  @Enum({ items: () => EmailTokenPurpose })
  purpose!: EmailTokenPurpose;

  @Property({ type: 'string', length: 64, unique: true, hidden: true })
  tokenHash!: string;

  /** ChangeEmail only: the address that becomes the account's once the link is followed. */
  @Property({ type: 'string', length: 254, nullable: true })
  newEmail?: string | null;

  @Property({ type: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'timestamptz', nullable: true })
  usedAt?: Date | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
