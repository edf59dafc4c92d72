import { EntityManager, LockMode, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { validationFailed } from '../../common/http/validation.pipe';
import { DomainError } from '../../common/problem/domain-error';
import { AppConfig } from '../../config/app-config';
import { MailService } from '../../mail/mail.service';
import { DEFAULT_ROLE, grantRoles } from '../../users/user-roles';
import { User, UserStatus } from '../../users/user.entity';
import { EmailTokenPurpose } from '../email-tokens/email-token.entity';
import { EmailTokenService } from '../email-tokens/email-token.service';
import { PasswordHasher } from '../passwords/password-hasher';
import { PasswordPolicy } from '../passwords/password-policy';

export interface Registration {
  email: string;
  password: string;
  displayName: string;
}

const RESEND_REQUEST = 'verification-resend';

export const REGISTRATION_ACCEPTED = 'If this address can be registered, a message with the next step has been sent to it';

/**
 * Registration without enumeration: every outcome answers the same, after the same Argon2 work.
 * A pending account is re-registered by whoever controls the mailbox (its password is replaced and
 * earlier links die); an active account is never changed — its owner gets a notice instead.
 */
@Injectable()
export class RegistrationService implements OnModuleInit {
  constructor(
    private readonly em: EntityManager,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly emailTokens: EmailTokenService,
    private readonly mail: MailService,
    private readonly audit: AuditService,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  async register(input: Registration): Promise<void> {
    if (!this.config.registration.open) throw new DomainError('forbidden', 'Registration is closed');
    const problems = await this.policy.check(input.password, { email: input.email });
    if (problems.length) throw validationFailed(problems.map((message) => ({ field: 'password', message })));
    const passwordHash = await this.hasher.hash(input.password);
    try {
      await this.registerWithHash(input, passwordHash);
    } catch (err) {
      // Two registrations of one new address raced: the loser takes the pending-account path.
      if (!(err instanceof UniqueConstraintViolationException)) throw err;
      await this.registerWithHash(input, passwordHash);
    }
  }

  private async registerWithHash(input: Registration, passwordHash: string): Promise<void> {
    const verificationRequired = this.config.registration.emailVerificationRequired;
    const result = await this.em.fork().transactional(async (em) => {
      const existing = await em.findOne(User, { email: input.email }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (existing && (existing.status !== UserStatus.Pending || existing.deletedAt)) {
        return { kind: 'exists' as const, userId: existing.id };
      }
      const user = existing ?? em.create(User, { email: input.email, displayName: input.displayName });
      user.displayName = input.displayName;
      user.passwordHash = passwordHash;
      // Without required verification the account is usable at once, but its email stays
      // unverified: it is not proof of the mailbox (a Google sign-in of the owner claims it).
      if (!verificationRequired) user.status = UserStatus.Active;
      await em.flush();
      if (!existing) await grantRoles(em, user.id, [DEFAULT_ROLE]);
      const token = verificationRequired ? await this.emailTokens.issue(em, user.id, EmailTokenPurpose.VerifyEmail) : null;
      return { kind: existing ? ('re-registered' as const) : ('created' as const), userId: user.id, token };
    });
    if (result.kind === 'exists') {
      await this.mail.sendAccountExists(input.email);
    } else if (result.token) {
      await this.mail.sendVerification(input.email, result.token);
    }
    await this.audit.record({
      type: 'auth.register',
      outcome: result.kind === 'exists' ? 'failure' : 'success',
      actorId: result.kind === 'exists' ? null : result.userId,
      targetType: 'User',
      targetId: result.userId,
      details: { email: input.email, result: result.kind },
    });
  }

  async verifyEmail(token: string): Promise<void> {
    const userId = await this.em.fork().transactional(async (em) => {
      const id = await this.emailTokens.consume(em, token, EmailTokenPurpose.VerifyEmail);
      if (!id) return null;
      await em.execute(
        `UPDATE users SET email_verified = true, updated_at = now(), status = CASE WHEN status = 'pending' THEN 'active' ELSE status END WHERE id = ?`,
        [id],
      );
      return id;
    });
    if (!userId) throw new DomainError('badRequest', 'The verification link is invalid, used or expired');
    await this.audit.record({ type: 'auth.email_verified', outcome: 'success', actorId: userId, targetType: 'User', targetId: userId });
  }

  onModuleInit(): void {
    this.mail.onRequest(RESEND_REQUEST, (email) => this.resendTo(email));
  }

  /**
   * Always accepted after the same work (one queue insert), whatever the address; the worker
   * looks the account up, and only a pending account gets a fresh link (earlier links stop working).
   */
  resendVerification(email: string): Promise<void> {
    return this.mail.request(RESEND_REQUEST, email);
  }

  private async resendTo(email: string): Promise<void> {
    const em = this.em.fork();
    const user = await em.findOne(User, { email, deletedAt: null });
    if (!user || user.status !== UserStatus.Pending) return;
    const token = await em.transactional((tx) => this.emailTokens.issue(tx, user.id, EmailTokenPurpose.VerifyEmail));
    await this.mail.sendVerification(user.email, token);
  }
}
