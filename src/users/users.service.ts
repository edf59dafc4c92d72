import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { DomainError } from '../common/problem/domain-error';
import { ChangeFeed } from '../database/change-feed/change-feed.service';
import type { UserView } from './user.view';

export interface UserRow {
  id: string;
  email: string;
  display_name: string;
  email_verified: boolean;
  status: UserView['status'];
  department_id: string | null;
  created_at: Date;
  updated_at: Date;
  roles: string[] | null;
  mfa_enabled: boolean;
}

export const USER_VIEW_SQL = `
  SELECT u.id, u.email, u.display_name, u.email_verified, u.status, u.department_id, u.created_at, u.updated_at,
         EXISTS (SELECT 1 FROM totp_factors t WHERE t.user_id = u.id AND t.status = 'active') AS mfa_enabled,
         array_remove(array_agg(r.name ORDER BY r.name), NULL) AS roles
    FROM users u LEFT JOIN user_roles ur ON ur.user_id = u.id LEFT JOIN roles r ON r.id = ur.role_id`;

export function toUserView(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    emailVerified: row.email_verified,
    status: row.status,
    roles: row.roles ?? [],
    departmentId: row.department_id,
    mfaEnabled: row.mfa_enabled,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

@Injectable()
export class UsersService {
  constructor(
    private readonly em: EntityManager,
    private readonly feed: ChangeFeed,
    private readonly audit: AuditService,
  ) {}

  async view(userId: string): Promise<UserView> {
    const view = await this.findView(userId);
    if (!view) throw new DomainError('notFound', 'No such user');
    return view;
  }

  async findView(userId: string): Promise<UserView | null> {
    const rows: UserRow[] = await this.em.execute(`${USER_VIEW_SQL} WHERE u.id = ? AND u.deleted_at IS NULL GROUP BY u.id`, [userId]);
    return rows.length ? toUserView(rows[0]) : null;
  }

  /** Self-service: only the display name. Roles, status and department are never set here. */
  async updateOwnProfile(userId: string, displayName: string): Promise<UserView> {
    await this.em.execute('UPDATE users SET display_name = ?, updated_at = now() WHERE id = ? AND deleted_at IS NULL', [displayName, userId]);
    await this.audit.record({ type: 'user.updated', outcome: 'success', actorId: userId, targetType: 'User', targetId: userId, details: { fields: ['displayName'] } });
    await this.feed.broadcast({ type: 'user.changed', userId });
    return this.view(userId);
  }
}
