import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { DomainError } from '../../common/problem/domain-error';
import { AppConfig } from '../../config/app-config';
import { UserStatus } from '../../users/user.entity';
import { LockoutService } from '../lockout/lockout.service';
import { PasswordHasher } from '../passwords/password-hasher';

/** Who passed the password step (passport-local's `request.user`). */
export interface PasswordAccount {
  id: string;
  email: string;
}

/** What the password step reads: one row, no entity (this is the hottest query of a login). */
interface AccountRow {
  id: string;
  password_hash: string | null;
  status: UserStatus;
  email_verified: boolean;
  locked_until: Date | null;
}

export const invalidCredentials = () => new DomainError('invalidCredentials', 'Invalid credentials');

/**
 * Checks an email and password (passport-local calls this). Wrong password, unknown email and a
 * locked account answer the same 401 after the same amount of Argon2 work (ASVS 6.3.8); only the
 * right password reveals "unverified" or "disabled", as API.md specifies.
 */
@Injectable()
export class PasswordLoginService {
  constructor(
    private readonly em: EntityManager,
    private readonly hasher: PasswordHasher,
    private readonly lockout: LockoutService,
    private readonly audit: AuditService,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  /**
   * The password step only. Failures in parallel (on this or another instance) may lock the
   * account while the hash is being checked: SignInService.complete({ lockout: true }) checks the
   * lock again in the statement that writes the session, and clears the failure count there.
   */
  async verify(email: string, password: string): Promise<PasswordAccount> {
    const em = this.em.fork();
    const [account]: AccountRow[] = await em.execute(
      'SELECT id, password_hash, status, email_verified, locked_until FROM users WHERE email = ? AND deleted_at IS NULL',
      [email],
    );
    if (!account || !account.password_hash) {
      await this.hasher.verifyAgainstDummy(password);
      if (account) await this.lockout.recordFailure(account.id);
      else await this.lockout.recordUnknownEmailFailure(email);
      return this.fail(account?.id ?? null, email, account ? 'no_password' : 'unknown_email');
    }
    const locked = this.lockout.isLocked({ lockedUntil: account.locked_until });
    const matches = await this.hasher.verify(account.password_hash, password);
    if (locked) return this.fail(account.id, email, 'locked');
    if (!matches) {
      await this.lockout.recordFailure(account.id);
      return this.fail(account.id, email, 'wrong_password');
    }
    if (account.status === UserStatus.Disabled) {
      return this.fail(account.id, email, 'disabled', new DomainError('accountDisabled', 'This account is disabled'));
    }
    if (!account.email_verified && this.config.registration.emailVerificationRequired) {
      return this.fail(account.id, email, 'email_not_verified', new DomainError('emailNotVerified', 'Verify your email address before signing in'));
    }
    if (this.hasher.needsRehash(account.password_hash)) {
      // Unless the password was changed meanwhile.
      const rehashed = await this.hasher.hash(password);
      await em.execute('UPDATE users SET password_hash = ?, updated_at = now() WHERE id = ? AND password_hash = ?', [rehashed, account.id, account.password_hash]);
    }
    return { id: account.id, email };
  }

  private async fail(userId: string | null, email: string, reason: string, error = invalidCredentials()): Promise<never> {
    await recordLoginFailure(this.audit, userId, { email, reason, method: 'password' });
    throw error;
  }
}

/** The audit event of a refused sign-in (`details.reason` says why). */
export function recordLoginFailure(audit: AuditService, userId: string | null, details: Record<string, unknown>): Promise<void> {
  return audit.record({ type: 'auth.login.failed', outcome: 'failure', actorId: userId, targetType: 'User', targetId: userId, details });
}
