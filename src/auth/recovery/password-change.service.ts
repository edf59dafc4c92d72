import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { validationFailed } from '../../common/http/validation.pipe';
import { DomainError } from '../../common/problem/domain-error';
import { User } from '../../users/user.entity';
import { EmailTokenPurpose } from '../email-tokens/email-token.entity';
import { EmailTokenService } from '../email-tokens/email-token.service';
import { CurrentPasswordCheck } from '../lockout/current-password-check';
import { PasswordHasher } from '../passwords/password-hasher';
import { PasswordPolicy } from '../passwords/password-policy';
import type { Principal } from '../principal/principal';
import { signedInRecently } from '../principal/recent-sign-in';
import { SessionService } from '../sessions/session.service';
import { SecurityNotices } from '../notifications/security-notices';

/**
 * A signed-in user changes their password: the current one is re-checked (or, for an account
 * without a password, a sign-in less than 5 minutes old is required), and every other session
 * ends (ASVS 7.4.3), and so does every outstanding reset link.
 */
@Injectable()
export class PasswordChangeService {
  constructor(
    private readonly em: EntityManager,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly sessions: SessionService,
    private readonly audit: AuditService,
    private readonly currentPassword: CurrentPasswordCheck,
    private readonly emailTokens: EmailTokenService,
    private readonly notices: SecurityNotices,
  ) {}

  async change(principal: Principal, currentPassword: string | undefined, newPassword: string): Promise<void> {
    const em = this.em.fork();
    const user = await em.findOneOrFail(User, { id: principal.userId, deletedAt: null });
    if (user.passwordHash) {
      await this.currentPassword.assert(user, user.passwordHash, currentPassword, 'currentPassword', () =>
        this.audit.record({ type: 'auth.password.changed', outcome: 'failure', actorId: user.id, targetType: 'User', targetId: user.id, details: { reason: 'wrong_current_password' } }),
      );
    } else if (!signedInRecently(principal)) {
      throw new DomainError('forbidden', 'Sign in again (less than 5 minutes ago) to set a password');
    }
    const problems = await this.policy.check(newPassword, { email: user.email });
    if (problems.length) throw validationFailed(problems.map((message) => ({ field: 'newPassword', message })));
    const passwordHash = await this.hasher.hash(newPassword);
    await em.transactional(async (tx) => {
      await tx.execute('UPDATE users SET password_hash = ?, updated_at = now() WHERE id = ?', [passwordHash, user.id]);
      // A reset link mailed before the change must not undo it.
      await this.emailTokens.revokeAll(tx, user.id, EmailTokenPurpose.ResetPassword);
    });
    const ended = await this.sessions.revokeAllOfUser(user.id, 'password_changed', principal.sessionId);
    await this.audit.record({ type: 'auth.password.changed', outcome: 'success', actorId: user.id, targetType: 'User', targetId: user.id, details: { otherSessionsEnded: ended.length } });
    await this.notices.notify(user.id, 'password_changed');
  }
}
