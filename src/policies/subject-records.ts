import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditEvent } from '../audit/audit-event.entity';
import { Session } from '../auth/sessions/session.entity';
import { Department } from '../departments/department.entity';
import { Document } from '../documents/document.entity';
import { Client } from '../oidc/clients/client.entity';
import { toClientView } from '../oidc/clients/client-view';
import { ResourceServer } from '../oidc/resource-servers/resource-server.entity';
import { toUserView, USER_VIEW_SQL, type UserRow } from '../users/users.service';
import type { SubjectType } from './policy-schema';
import { Role } from './role.entity';

/** Loads any subject by id in the shape policies see it (for dry-run checks). */
@Injectable()
export class SubjectRecords {
  constructor(private readonly em: EntityManager) {}

  async load(type: SubjectType, id: string): Promise<(Record<string, unknown> & { id: string }) | null> {
    const em = this.em.fork();
    switch (type) {
      case 'User': {
        const rows: UserRow[] = await em.execute(`${USER_VIEW_SQL} WHERE u.id = ? AND u.deleted_at IS NULL GROUP BY u.id`, [id]);
        return rows.length ? { ...toUserView(rows[0]) } : null;
      }
      case 'Session': {
        const s = await em.findOne(Session, { id });
        return s && { id: s.id, userId: s.user.id, createdAt: s.createdAt, lastUsedAt: s.lastUsedAt, ip: s.ip ?? null, userAgent: s.userAgent ?? null, amr: s.amr };
      }
      case 'Role':
        return em.findOne(Role, { id }).then((r) => r && { ...r });
      case 'Department':
        return em.findOne(Department, { id }).then((d) => d && { ...d });
      case 'Document':
        return em.findOne(Document, { id }).then((d) => d && { ...d });
      case 'AuditEvent':
        return em.findOne(AuditEvent, { id }).then((a) => a && { ...a });
      case 'Client':
        return em.findOne(Client, { id }).then((c) => c && { ...toClientView(c) });
      case 'ResourceServer':
        return em.findOne(ResourceServer, { id }).then((r) => r && { ...r });
    }
  }
}
