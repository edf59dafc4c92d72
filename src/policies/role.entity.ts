import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

/** A CASL raw rule as stored (validated by the policies module before it is saved). */
export interface StoredPermission {
  action: string;
  subject: string;
  conditions?: Record<string, unknown>;
  fields?: string[];
  inverted?: boolean;
  reason?: string;
}

@Entity({ tableName: 'roles' })
export class Role {
  [OptionalProps]?: 'description' | 'permissions' | 'requireMfa' | 'builtIn' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 64, unique: true })
  name!: string;

  @Property({ type: 'string', length: 500, default: '' })
  description: string = '';

  @Property({ type: 'json', default: '[]' })
  permissions: StoredPermission[] = [];

  @Property({ type: 'boolean', default: false })
  requireMfa: boolean = false;

  @Property({ type: 'boolean', default: false })
  builtIn: boolean = false;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
