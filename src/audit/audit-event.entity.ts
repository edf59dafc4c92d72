import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';

export type AuditOutcome = 'success' | 'failure' | 'denied';

/** Append-only (database triggers refuse UPDATE, DELETE and TRUNCATE). */
@Entity({ tableName: 'audit_events' })
@Index({ properties: ['type', 'at'] })
@Index({ properties: ['actorId', 'at'] })
@Index({ properties: ['targetId', 'at'] })
export class AuditEvent {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'string', length: 64 })
  type!: string;

  @Index()
  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  at: Date = new Date();

  @Property({ type: 'uuid', nullable: true })
  actorId?: string | null;

  @Property({ type: 'string', length: 32, nullable: true })
  targetType?: string | null;

  @Property({ type: 'string', length: 64, nullable: true })
  targetId?: string | null;

  @Property({ type: 'string', length: 64, nullable: true })
  ip?: string | null;

  @Property({ type: 'string', length: 512, nullable: true })
  userAgent?: string | null;

  @Property({ type: 'string', length: 128, nullable: true })
  requestId?: string | null;

  @Property({ type: 'string', length: 16 })
  outcome!: AuditOutcome;

  @Property({ type: 'json', default: '{}' })
  details: Record<string, unknown> = {};
}
