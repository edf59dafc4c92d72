import { EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { validationFailed } from '../../common/http/validation.pipe';
import { DomainError } from '../../common/problem/domain-error';
import { MailService } from '../../mail/mail.service';
import { User } from '../../users/user.entity';
import { EmailTokenPurpose } from '../email-tokens/email-token.entity';
import { EmailTokenService } from '../email-tokens/email-token.service';
import { CurrentPasswordCheck } from '../lockout/current-password-check';
import { SecurityNotices } from '../notifications/security-notices';
import type { Principal } from '../principal/principal';
import { signedInRecently } from '../principal/recent-sign-in';
import { SessionService } from '../sessions/session.service';

export const EMAIL_CHANGE_ACCEPTED = 'If the address can be used, a link to confirm it has been sent to it';

/**
 * A signed-in user moves their account to another address: the current password again (ASVS
 * 7.5.1), a link to the new address proves the mailbox, and only following it changes the email —
 * then the old address is told and every other session ends (7.4.3). Whether the new address
 * already belongs to an account is never revealed: that case just sends no link.
 */
@Injectable()
export class EmailChangeService {
  constructor(
    private readonly em: EntityManager,
    private readonly currentPassword: CurrentPasswordCheck,
    private readonly emailTokens: EmailTokenService,
    private readonly sessions: SessionService,
    private readonly mail: MailService,
    private readonly notices: SecurityNotices,
    private readonly audit: AuditService,
  ) {}

  async request(principal: Principal, newEmail: string, currentPassword: string | undefined): Promise<void> {
    const em = this.em.fork();
    const user = await em.findOneOrFail(User, { id: principal.userId, deletedAt: null });
    if (user.passwordHash) {
      await this.currentPassword.assert(user, user.passwordHash, currentPassword, 'currentPassword');
    } else if (!signedInRecently(principal)) {
      throw new DomainError('forbidden', 'Sign in again (less than 5 minutes ago) to change your email address');
    }
    if (newEmail === user.email) throw validationFailed([{ field: 'newEmail', message: 'is already your address' }]);
    const taken = (await em.execute('SELECT 1 FROM users WHERE email = ?', [newEmail])).length > 0;
    if (!taken) {
      const token = await em.transactional((tx) => this.emailTokens.issue(tx, user.id, EmailTokenPurpose.ChangeEmail, newEmail));
      await this.mail.sendEmailChange(newEmail, token);
    }
    await this.audit.record({ type: 'auth.email_change.requested', outcome: taken ? 'failure' : 'success', actorId: user.id, targetType: 'User', targetId: user.id, details: { taken } });
  }

  /** Follows the link: the address changes, the other sessions end (`keepSessionId`: the confirming browser's own, if it is the account's). */
  async confirm(token: string, keepSessionId?: string): Promise<{ userId: string }> {
    let change: { userId: string; oldEmail: string } | null;
    try {
      change = await this.em.fork().transactional(async (tx) => {
        const found = await this.emailTokens.consumeEmailChange(tx, token);
        if (!found) return null;
        const rows: { email: string }[] = await tx.execute('SELECT email FROM users WHERE id = ? AND deleted_at IS NULL FOR UPDATE', [found.userId]);
        if (!rows.length) return null;
        await tx.execute('UPDATE users SET email = ?, email_verified = true, updated_at = now() WHERE id = ?', [found.newEmail, found.userId]);
        return { userId: found.userId, oldEmail: rows[0].email };
      });
    } catch (err) {
      // The address was taken by another account after the link was sent.
      if (!(err instanceof UniqueConstraintViolationException)) throw err;
      change = null;
    }
    if (!change) throw new DomainError('badRequest', 'The confirmation link is invalid, used or expired');
    await this.sessions.revokeAllOfUser(change.userId, 'email_changed', keepSessionId);
    await this.audit.record({ type: 'auth.email.changed', outcome: 'success', actorId: change.userId, targetType: 'User', targetId: change.userId });
    await this.notices.notify(change.userId, 'email_changed', change.oldEmail);
    return { userId: change.userId };
  }
}
