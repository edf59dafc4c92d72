import type { EntityManager } from '@mikro-orm/postgresql';
import type { SubjectRecord } from '../../policies/subject-records';
import { Session } from './session.entity';

/** A session as policies see it (the `Session` subject): never its secrets. */
export async function loadSessionRecord(em: EntityManager, id: string): Promise<SubjectRecord | null> {
  const s = await em.fork().findOne(Session, { id });
  return s && { id: s.id, userId: s.user.id, createdAt: s.createdAt, lastUsedAt: s.lastUsedAt, ip: s.ip ?? null, userAgent: s.userAgent ?? null, amr: s.amr };
}
