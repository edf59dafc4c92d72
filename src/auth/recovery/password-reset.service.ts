import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { validationFailed } from '../../common/http/validation.pipe';
import { DomainError } from '../../common/problem/domain-error';
import { MailService } from '../../mail/mail.service';
import { User, UserStatus } from '../../users/user.entity';
import { EmailTokenPurpose } from '../email-tokens/email-token.entity';
import { EmailTokenService } from '../email-tokens/email-token.service';
import { LockoutService } from '../lockout/lockout.service';
import { PasswordHasher } from '../passwords/password-hasher';
import { PasswordPolicy } from '../passwords/password-policy';
import { SessionService } from '../sessions/session.service';
import { SecurityNotices } from '../notifications/security-notices';

/**
 * Forgotten passwords: a single-use 30-minute link; using it sets the password, ends every
 * session, clears the lockout, and — the mailbox being proven — verifies a pending account.
 * It never touches MFA: the next sign-in still asks for the second factor (ASVS 6.4.3).
 */
@Injectable()
export class PasswordResetService implements OnModuleInit {
  constructor(
    private readonly em: EntityManager,
    private readonly emailTokens: EmailTokenService,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly lockout: LockoutService,
    private readonly sessions: SessionService,
    private readonly mail: MailService,
    private readonly audit: AuditService,
    private readonly notices: SecurityNotices,
  ) {}

  onModuleInit(): void {
    this.mail.onRequest(RESET_REQUEST, (email) => this.sendReset(email));
  }

  /**
   * Always accepted, whether or not the address has an account, after the same work (one queue
   * insert): the account is looked up off the request path (no enumeration by body, status or timing).
   */
  requestReset(email: string): Promise<void> {
    return this.mail.request(RESET_REQUEST, email);
  }

  /** The queue's worker: a reset link to an account that may have one; nothing otherwise. */
  private async sendReset(email: string): Promise<void> {
    const em = this.em.fork();
    const user = await em.findOne(User, { email, deletedAt: null });
    if (!user || user.status === UserStatus.Disabled) return;
    const token = await em.transactional((tx) => this.emailTokens.issue(tx, user.id, EmailTokenPurpose.ResetPassword));
    await this.mail.sendPasswordReset(user.email, token);
  }

  async reset(token: string, newPassword: string): Promise<void> {
    const em = this.em.fork();
    const userId = await this.emailTokens.peek(em, token, EmailTokenPurpose.ResetPassword);
    const user = userId ? await em.findOne(User, { id: userId, deletedAt: null }) : null;
    if (!user) throw invalidLink();
    // Check the new password before using up the link, so a refused password can be retried.
    const problems = await this.policy.check(newPassword, { email: user.email });
    if (problems.length) throw validationFailed(problems.map((message) => ({ field: 'newPassword', message })));
    const passwordHash = await this.hasher.hash(newPassword);
    const done = await em.transactional(async (tx) => {
      if ((await this.emailTokens.consume(tx, token, EmailTokenPurpose.ResetPassword)) !== user.id) return false;
      // Any other reset link of the account (an admin's set-password mail included) dies with this one.
      await this.emailTokens.revokeAll(tx, user.id, EmailTokenPurpose.ResetPassword);
      await tx.execute(
        `UPDATE users SET password_hash = ?, email_verified = true, updated_at = now(),
                status = CASE WHEN status = 'pending' THEN 'active' ELSE status END WHERE id = ?`,
        [passwordHash, user.id],
      );
      await this.lockout.unlock(user.id, tx);
      return true;
    });
    if (!done) throw invalidLink();
    await this.sessions.revokeAllOfUser(user.id, 'password_reset');
    await this.audit.record({ type: 'auth.password.reset', outcome: 'success', actorId: user.id, targetType: 'User', targetId: user.id });
    await this.notices.notify(user.id, 'password_reset');
  }
}

const RESET_REQUEST = 'password-reset';

const invalidLink = () => new DomainError('badRequest', 'The reset link is invalid, used or expired');
