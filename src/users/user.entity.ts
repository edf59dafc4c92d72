import { Collection, Entity, Enum, Index, ManyToMany, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Department } from '../departments/department.entity';
import { Role } from '../policies/role.entity';
import { randomUUID } from 'node:crypto';

export enum UserStatus {
  Pending = 'pending',
  Active = 'active',
  Disabled = 'disabled',
}

@Entity({ tableName: 'users' })
export class User {
  [OptionalProps]?: 'emailVerified' | 'status' | 'failedLoginCount' | 'lockCount' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  /** Stored normalised (trimmed, lower-case); unique. */
  @Property({ type: 'string', length: 254, unique: true })
  email!: string;

  @Property({ type: 'string', length: 100 })
  displayName!: string;

  @Property({ type: 'boolean', default: false })
  emailVerified: boolean = false;

  @Enum({ items: () => UserStatus, nativeEnumName: undefined, default: UserStatus.Pending })
  status: UserStatus = UserStatus.Pending;

  /** Argon2id PHC string; null for users who only sign in through Google. */
  @Property({ type: 'text', nullable: true, hidden: true, lazy: false })
  passwordHash?: string | null;

  @ManyToOne({ entity: () => Department, fieldName: 'department_id', mapToPk: true, nullable: true, deleteRule: 'set null', updateRule: 'no action', index: true })
  departmentId?: string | null;

  @ManyToMany({ entity: () => Role, pivotTable: 'user_roles', joinColumn: 'user_id', inverseJoinColumn: 'role_id' })
  roles = new Collection<Role>(this);

  /** Consecutive failed sign-ins since the last success; updated atomically in SQL. */
  @Property({ type: 'integer', default: 0, hidden: true })
  failedLoginCount: number = 0;

  /** How many times the account has been locked in a row (each lock doubles the next). */
  @Property({ type: 'integer', default: 0, hidden: true })
  lockCount: number = 0;

  @Property({ type: 'timestamptz', nullable: true, hidden: true })
  lockedUntil?: Date | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();

  /** Soft delete: the row stays for the audit trail, the user is gone everywhere else. */
  @Index()
  @Property({ type: 'timestamptz', nullable: true, hidden: true })
  deletedAt?: Date | null;
}
