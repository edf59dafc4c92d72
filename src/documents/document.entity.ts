import { Entity, Enum, Index, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Department } from '../departments/department.entity';
import { User } from '../users/user.entity';
import { randomUUID } from 'node:crypto';

export enum DocumentStatus {
  Draft = 'draft',
  Published = 'published',
  Archived = 'archived',
}

export enum Classification {
  Public = 'public',
  Internal = 'internal',
  Confidential = 'confidential',
}

/** Indexed for the policy filters: department + status/classification, owner, and paging order. */
@Entity({ tableName: 'documents' })
@Index({ properties: ['departmentId', 'status', 'classification', 'createdAt'] })
@Index({ properties: ['ownerId', 'status'] })
@Index({ properties: ['createdAt', 'id'] })
export class Document {
  [OptionalProps]?: 'status' | 'classification' | 'version' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 200 })
  title!: string;

  @Property({ type: 'text' })
  body!: string;

  @Enum({ items: () => DocumentStatus, default: DocumentStatus.Draft })
  status: DocumentStatus = DocumentStatus.Draft;

  @Enum({ items: () => Classification, default: Classification.Internal })
  classification: Classification = Classification.Internal;

  @ManyToOne({ entity: () => Department, fieldName: 'department_id', mapToPk: true, deleteRule: 'restrict', updateRule: 'no action' })
  departmentId!: string;

  @ManyToOne({ entity: () => User, fieldName: 'owner_id', mapToPk: true, deleteRule: 'restrict', updateRule: 'no action' })
  ownerId!: string;

  /** Optimistic locking: a PATCH names the version it read; a stale one is 409. */
  @Property({ type: 'integer', default: 1 })
  version: number = 1;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  updatedAt: Date = new Date();
}
