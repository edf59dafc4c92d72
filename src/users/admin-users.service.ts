import { EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { ChangeFeed } from '../database/change-feed/change-feed.service';
import { EmailTokenPurpose } from '../auth/email-tokens/email-token.entity';
import { EmailTokenService } from '../auth/email-tokens/email-token.service';
import { LockoutService } from '../auth/lockout/lockout.service';
import { MfaManagementService } from '../auth/mfa/mfa-management.service';
import { PasswordHasher } from '../auth/passwords/password-hasher';
import { PasswordPolicy } from '../auth/passwords/password-policy';
import { SessionService } from '../auth/sessions/session.service';
import { type SessionSummary, UserSessionsService } from '../auth/sessions/user-sessions.service';
import { validationFailed } from '../common/http/validation.pipe';
import { emptyPage, pageOf, likePattern, type ListQuery, type Page } from '../common/pagination/pagination';
import { DomainError } from '../common/problem/domain-error';
import { MailService } from '../mail/mail.service';
import type { AuthContext } from '../policies/auth-context';
import { GrantCheck } from '../policies/grant-check';
import { PolicyEnforcer } from '../policies/policy-enforcer';
import { Role } from '../policies/role.entity';
import { DEFAULT_ROLE, grantRoles } from './user-roles';
import { User, UserStatus } from './user.entity';
import type { UserView } from './user.view';
import { UsersService } from './users.service';

export interface UserListQuery extends ListQuery {
  q?: string;
  status?: UserStatus;
  role?: string;
}

export interface NewUser {
  email: string;
  displayName: string;
  roles?: string[];
  departmentId?: string | null;
  password?: string;
}

export interface UserChanges {
  displayName?: string;
  roles?: string[];
  departmentId?: string | null;
  status?: UserStatus;
}

/** The admin side of users: every decision through the policy engine, every change audited. */
@Injectable()
export class AdminUsersService {
  constructor(
    private readonly em: EntityManager,
    private readonly users: UsersService,
    private readonly enforcer: PolicyEnforcer,
    private readonly feed: ChangeFeed,
    private readonly sessions: SessionService,
    private readonly userSessions: UserSessionsService,
    private readonly lockout: LockoutService,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly emailTokens: EmailTokenService,
    private readonly mail: MailService,
    private readonly audit: AuditService,
    private readonly mfa: MfaManagementService,
    private readonly grants: GrantCheck,
  ) {}

  async list(auth: AuthContext, query: UserListQuery): Promise<Page<Partial<UserView>>> {
    const policy = this.enforcer.filter(auth, 'read', 'User');
    if (!policy) return emptyPage(query);
    const where: Record<string, unknown>[] = [policy, { deletedAt: null }];
    if (query.q) where.push({ $or: [{ email: { $ilike: likePattern(query.q) } }, { displayName: { $ilike: likePattern(query.q) } }] });
    if (query.status) where.push({ status: query.status });
    if (query.role) where.push({ roles: { name: query.role } });
    const [rows, total] = await this.em.findAndCount(User, { $and: where }, {
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit: query.limit,
      offset: query.offset,
      populate: ['roles'],
    });
    const withMfa = await this.usersWithMfa(rows.map((u) => u.id));
    const items = rows.map((u) => this.enforcer.visible(auth, 'User', { ...this.toView(u, withMfa.has(u.id)) }));
    return pageOf(items, total, query);
  }

  async get(auth: AuthContext, id: string): Promise<Partial<UserView>> {
    const view = await this.readable(auth, 'read', id);
    return this.enforcer.visible(auth, 'User', { ...view });
  }

  async create(auth: AuthContext, input: NewUser): Promise<Partial<UserView>> {
    const roles = input.roles ?? [DEFAULT_ROLE];
    const candidate = { id: '', email: input.email, displayName: input.displayName, emailVerified: true, status: UserStatus.Active, roles, departmentId: input.departmentId ?? null };
    const { password: _password, ...sent } = input;
    await this.enforcer.assertCreate(auth, 'User', sent, candidate);
    const named = await this.rolesNamed(roles);
    // The default role is the system's choice, not a grant by the caller: only roles sent need `assign`.
    if (input.roles) await this.grants.assertAssignable(auth, input.roles.map((name, i) => ({ role: named.get(name)!, field: `roles[${i}]` })));
    if (input.password) {
      const problems = await this.policy.check(input.password, { email: input.email });
      if (problems.length) throw validationFailed(problems.map((message) => ({ field: 'password', message })));
    }
    const passwordHash = input.password ? await this.hasher.hash(input.password) : null;
    let token: string | null = null;
    let id: string;
    try {
      id = await this.em.fork().transactional(async (tx) => {
        const user = tx.create(User, { email: input.email, displayName: input.displayName, passwordHash, departmentId: input.departmentId ?? null, emailVerified: true, status: UserStatus.Active });
        await tx.flush();
        await this.setRoles(tx, user.id, roles);
        if (!passwordHash) token = await this.emailTokens.issue(tx, user.id, EmailTokenPurpose.ResetPassword);
        return user.id;
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw new DomainError('conflict', 'A user with this email exists');
      if ((err as { code?: string }).code === '23503') throw validationFailed([{ field: 'departmentId', message: 'no such department' }]);
      throw err;
    }
    if (token) await this.mail.sendSetPassword(input.email, token);
    await this.audit.record({ type: 'user.created', outcome: 'success', actorId: auth.principal.userId, targetType: 'User', targetId: id, details: { email: input.email, roles, departmentId: input.departmentId ?? null } });
    return this.get(auth, id);
  }

  async update(auth: AuthContext, id: string, changes: UserChanges): Promise<Partial<UserView>> {
    const view = await this.readable(auth, 'update', id);
    const changed = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
    if (id === auth.principal.userId && ['roles', 'status', 'departmentId'].some((f) => f in changed)) {
      await this.enforcer.deny(auth, 'update', 'User', id, 'self-service cannot change roles, status or department', new DomainError('forbidden', 'Nobody changes their own roles, status or department'));
    }
    await this.enforcer.assertFields(auth, 'update', 'User', { ...view }, changed);
    if (changes.roles) await this.assertReassignable(auth, view.roles, changes.roles);
    try {
      await this.feed.transaction(
        async (tx) => {
          const columns = (
            [
              ['display_name', changes.displayName],
              ['department_id', changes.departmentId],
              ['status', changes.status],
            ] as const
          ).filter(([, value]) => value !== undefined);
          const sets = [...columns.map(([column]) => `${column} = ?`), 'updated_at = now()'];
          await tx.execute(`UPDATE users SET ${sets.join(', ')} WHERE id = ?`, [...columns.map(([, value]) => value), id]);
          if (changes.roles) await this.setRoles(tx, id, changes.roles, true);
        },
        () => [{ type: 'user.changed', userId: id }],
      );
    } catch (err) {
      if ((err as { code?: string }).code === '23503') throw validationFailed([{ field: 'departmentId', message: 'no such department' }]);
      throw err;
    }
    if (changes.status === UserStatus.Disabled) await this.sessions.revokeAllOfUser(id, 'user_disabled');
    await this.audit.record({ type: 'user.updated', outcome: 'success', actorId: auth.principal.userId, targetType: 'User', targetId: id, details: { fields: Object.keys(changed), ...changed } });
    return this.get(auth, id);
  }

  async remove(auth: AuthContext, id: string): Promise<void> {
    await this.readable(auth, 'delete', id);
    if (id === auth.principal.userId) {
      await this.enforcer.deny(auth, 'delete', 'User', id, 'self-deletion', new DomainError('forbidden', 'You cannot delete your own account here'));
    }
    await this.feed.transaction(
      (tx) => tx.execute('UPDATE users SET deleted_at = now(), updated_at = now() WHERE id = ? AND deleted_at IS NULL', [id]),
      () => [{ type: 'user.changed', userId: id }],
    );
    await this.sessions.revokeAllOfUser(id, 'user_deleted');
    await this.audit.record({ type: 'user.deleted', outcome: 'success', actorId: auth.principal.userId, targetType: 'User', targetId: id });
  }

  /** A lock decides whether the account can sign in: ending it needs update on field `status`. */
  async unlock(auth: AuthContext, id: string): Promise<void> {
    const view = await this.readable(auth, 'update', id);
    await this.enforcer.assertFields(auth, 'update', 'User', { ...view }, { status: view.status });
    await this.lockout.unlock(id);
    await this.audit.record({ type: 'user.updated', outcome: 'success', actorId: auth.principal.userId, targetType: 'User', targetId: id, details: { unlocked: true } });
  }

  /** The user's sessions the caller may read, filtered in SQL like every other list. */
  async sessionsOf(auth: AuthContext, id: string): Promise<SessionSummary[]> {
    await this.readable(auth, 'read', id);
    const policy = this.enforcer.filter(auth, 'read', 'Session');
    return policy ? this.userSessions.list(id, undefined, policy) : [];
  }

  /** The session row decides: unreadable → 404, readable but not deletable → 403. */
  async endSessionOf(auth: AuthContext, id: string, sessionId: string): Promise<void> {
    await this.readable(auth, 'read', id);
    const session = await this.userSessions.record(id, sessionId);
    if (!session) throw new DomainError('notFound', 'No such session');
    await this.enforcer.assertCan(auth, 'delete', 'Session', { ...session });
    await this.userSessions.end(auth.principal.userId, id, sessionId);
  }

  /** The user as policies see it; 404 when unreadable, 403 when `action` is refused. */
  async readable(auth: AuthContext, action: 'read' | 'update' | 'delete', id: string): Promise<UserView> {
    const view = await this.users.view(id).catch(() => null);
    if (!view) throw new DomainError('notFound', 'No such User');
    await this.enforcer.assertCan(auth, action, 'User', { ...view });
    return view;
  }

  /** The roles named, by name; 400 when one does not exist. */
  private async rolesNamed(names: string[]): Promise<Map<string, Role>> {
    const found = await this.em.find(Role, { name: { $in: names } });
    if (found.length !== new Set(names).size) throw validationFailed([{ field: 'roles', message: 'names a role that does not exist' }]);
    return new Map(found.map((r) => [r.name, r]));
  }

  /** Every role given (`roles[i]`) or taken away (`roles`) needs `assign` on that role. */
  private async assertReassignable(auth: AuthContext, current: string[], next: string[]): Promise<void> {
    const removed = current.filter((name) => !next.includes(name));
    const named = await this.rolesNamed([...new Set([...next, ...removed])]);
    await this.grants.assertAssignable(auth, [
      ...next.flatMap((name, i) => (current.includes(name) ? [] : [{ role: named.get(name)!, field: `roles[${i}]` }])),
      ...removed.map((name) => ({ role: named.get(name)!, field: 'roles', removed: true })),
    ]);
  }

  private async setRoles(tx: EntityManager, userId: string, names: string[], replace = false): Promise<void> {
    if (replace) await tx.execute('DELETE FROM user_roles WHERE user_id = ?', [userId]);
    await grantRoles(tx, userId, names);
  }

  /** POST /users/:id/mfa/reset: removes TOTP and recovery codes and ends every session; needs update on field `mfaEnabled`. */
  async resetMfa(auth: AuthContext, id: string): Promise<void> {
    const view = await this.readable(auth, 'update', id);
    await this.enforcer.assertFields(auth, 'update', 'User', { ...view }, { mfaEnabled: false });
    await this.mfa.resetForUser(auth.principal.userId, id);
  }

  private async usersWithMfa(ids: string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows: { user_id: string }[] = await this.em.execute(`SELECT user_id FROM totp_factors WHERE status = 'active' AND user_id = ANY(?::uuid[])`, [`{${ids.join(',')}}`]);
    return new Set(rows.map((r) => r.user_id));
  }

  private toView(u: User, mfaEnabled: boolean): UserView {
    return {
      id: u.id,
      email: u.email,
      displayName: u.displayName,
      emailVerified: u.emailVerified,
      status: u.status,
      roles: u.roles.getItems().map((r) => r.name).sort(),
      departmentId: u.departmentId ?? null,
      mfaEnabled,
      createdAt: u.createdAt.toISOString(),
      updatedAt: u.updatedAt.toISOString(),
    };
  }
}
