import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { requestMeta } from '../common/http/request-meta';
import { redactSecrets } from '../common/logging/redact';
import { AuditEvent, type AuditOutcome } from './audit-event.entity';

export interface AuditRecord {
  type: string;
  outcome: AuditOutcome;
  actorId?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  details?: Record<string, unknown>;
}

/**
 * Writes security events. A record is its own insert, outside the caller's transaction, so a
 * failed sign-in or a denied request is recorded even though the request itself fails; an event
 * that describes a write can instead be part of that write's statement (insertFrom). Details
 * pass through the same redaction as logs: no password, token, secret or hash is ever stored.
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('Audit');

  constructor(private readonly em: EntityManager) {}

  async record(record: AuditRecord): Promise<void> {
    try {
      // em.insert() takes a plain object, so the entity's `id` initializer never runs: row() sets it.
      await this.em.fork().insert(AuditEvent, { ...this.row(record), at: new Date() });
    } catch (err) {
      // An audit write must never turn a security decision into a 500; it is logged instead.
      this.logger.error({ err, type: record.type }, 'Could not write an audit event');
    }
  }

  /**
   * The same event as part of a larger statement: `INSERT INTO audit_events … SELECT … FROM <source>`
   * (a CTE of the caller's), so that it is written in the same statement and commit as the change
   * it describes, and only if that change happened. `detailsFrom` adds details taken from the
   * source's columns (detail name → column).
   */
  insertFrom(source: string, record: AuditRecord, detailsFrom: Record<string, string> = {}): { sql: string; params: unknown[] } {
    const row = this.row(record);
    const extra = Object.entries(detailsFrom);
    for (const [name, column] of extra) {
      if (!/^[A-Za-z]\w*$/.test(name) || !/^[a-z_]+$/.test(column)) throw new Error(`not a detail name and column: ${name}, ${column}`);
    }
    const details = extra.length ? `?::jsonb || jsonb_build_object(${extra.map(([name, column]) => `'${name}', ${source}.${column}`).join(', ')})` : '?::jsonb';
    return {
      sql: `INSERT INTO audit_events (id, type, outcome, actor_id, target_type, target_id, ip, user_agent, request_id, details, at)
            SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ${details}, now() FROM ${source}`,
      params: [row.id, row.type, row.outcome, row.actorId, row.targetType, row.targetId, row.ip, row.userAgent, row.requestId, JSON.stringify(row.details)],
    };
  }

  private row(record: AuditRecord) {
    const meta = requestMeta.current();
    return {
      id: randomUUID(),
      type: record.type,
      outcome: record.outcome,
      actorId: record.actorId ?? null,
      targetType: record.targetType ?? null,
      targetId: record.targetId ?? null,
      ip: meta.ip,
      userAgent: meta.userAgent,
      requestId: meta.requestId,
      details: redactSecrets(record.details ?? {}),
    };
  }
}
