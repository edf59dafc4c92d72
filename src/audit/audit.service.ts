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
 * Writes security events. Each record is its own insert, outside the caller's transaction, so a
 * failed sign-in or a denied request is recorded even though the request itself fails. Details
 * pass through the same redaction as logs: no password, token, secret or hash is ever stored.
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('Audit');

  constructor(private readonly em: EntityManager) {}

  async record(record: AuditRecord): Promise<void> {
    const meta = requestMeta.current();
    try {
      // em.insert() takes a plain object, so the entity's `id` initializer never runs: set it here.
      await this.em.fork().insert(AuditEvent, {
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
        at: new Date(),
      });
    } catch (err) {
      // An audit write must never turn a security decision into a 500; it is logged instead.
      this.logger.error({ err, type: record.type }, 'Could not write an audit event');
    }
  }
}
