import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { DomainError } from '../../common/problem/domain-error';
import { AppConfig } from '../../config/app-config';
import { User, UserStatus } from '../../users/user.entity';
import { LockoutService } from '../lockout/lockout.service';
import { TotpService } from '../mfa/totp.service';
import { PasswordHasher } from '../passwords/password-hasher';

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
    private readonly totp: TotpService,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  async verify(email: string, password: string): Promise<User> {
    const user = await this.em.findOne(User, { email, deletedAt: null });
    if (!user || !user.passwordHash) {
      await this.hasher.verifyAgainstDummy(password);
      if (user) await this.lockout.recordFailure(user.id);
      else await this.lockout.recordUnknownEmailFailure(email);
      return this.fail(user?.id ?? null, email, user ? 'no_password' : 'unknown_email');
    }
    const locked = this.lockout.isLocked(user);
    const matches = await this.hasher.verify(user.passwordHash, password);
    if (locked) return this.fail(user.id, email, 'locked');
    if (!matches) {
      await this.lockout.recordFailure(user.id);
      return this.fail(user.id, email, 'wrong_password');
    }
    // Failures in parallel (on this or another instance) may have locked the account while the hash
    // was being checked; a right password must not slip through that lock.
    if (await this.lockout.isLockedNow(user.id)) return this.fail(user.id, email, 'locked');
    if (user.status === UserStatus.Disabled) {
      return this.fail(user.id, email, 'disabled', new DomainError('accountDisabled', 'This account is disabled'));
    }
    if (!user.emailVerified && this.config.registration.emailVerificationRequired) {
      return this.fail(user.id, email, 'email_not_verified', new DomainError('emailNotVerified', 'Verify your email address before signing in'));
    }
    // With TOTP the sign-in is not complete yet: the failure count is cleared after the second
    // factor, else wrong codes could be retried forever by signing in again.
    if (!(await this.totp.isEnabled(user.id))) await this.lockout.recordSuccess(user);
    if (this.hasher.needsRehash(user.passwordHash)) {
      user.passwordHash = await this.hasher.hash(password);
      await this.em.flush();
    }
    return user;
  }

  private async fail(userId: string | null, email: string, reason: string, error = invalidCredentials()): Promise<never> {
    await this.audit.record({
      type: 'auth.login.failed',
      outcome: 'failure',
      actorId: userId,
      targetType: 'User',
      targetId: userId,
      details: { email, reason, method: 'password' },
    });
    throw error;
  }
}
