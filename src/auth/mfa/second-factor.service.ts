import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { DomainError } from '../../common/problem/domain-error';
import { LockoutService } from '../lockout/lockout.service';
import { wrongCode } from '../reauthentication-errors';
import { MfaChallenges } from './mfa-challenges';
import { RecoveryCodes } from './recovery-codes';
import { TotpService } from './totp.service';

export interface SecondFactor {
  code?: string;
  recoveryCode?: string;
}

export interface VerifiedSecondStep {
  userId: string;
  amr: string[];
}

const invalidCode = () => new DomainError('invalidCredentials', 'Invalid or expired code');

/**
 * Checks a second factor — a TOTP code or a recovery code, each single use — for a sign-in
 * challenge or for a signed-in user. Failures count toward the account lockout and are audited.
 */
@Injectable()
export class SecondFactorService {
  constructor(
    private readonly em: EntityManager,
    private readonly totp: TotpService,
    private readonly recoveryCodes: RecoveryCodes,
    private readonly challenges: MfaChallenges,
    private readonly lockout: LockoutService,
    private readonly audit: AuditService,
  ) {}

  /** `/mfa/verify`: the mfaToken's challenge plus a factor → who signed in, with `otp` in amr. */
  async completeChallenge(mfaToken: string, factor: SecondFactor): Promise<VerifiedSecondStep> {
    const challenge = await this.challenges.attempt(mfaToken);
    if (!challenge) throw invalidCode();
    const locked = await this.lockout.isLockedNow(challenge.userId);
    const ok = !locked && (await this.check(challenge.userId, factor));
    if (!ok) {
      await this.fail(challenge.userId, factor, locked ? 'locked' : 'wrong_code');
      throw invalidCode();
    }
    if (!(await this.challenges.complete(challenge.id))) throw invalidCode();
    // The sign-in as a whole succeeded: consecutive failures (wrong codes included) start over.
    await this.lockout.unlock(challenge.userId);
    return { userId: challenge.userId, amr: [...new Set([...challenge.amr, 'otp'])] };
  }

  /** Re-verification of a signed-in user's factor (disable, regenerate codes: both take it in the body's `code`). */
  async verifyForUser(userId: string, factor: SecondFactor): Promise<void> {
    if (!(await this.check(userId, factor))) {
      await this.fail(userId, factor, 'wrong_code');
      throw wrongCode('code');
    }
  }

  private async check(userId: string, factor: SecondFactor): Promise<boolean> {
    const em = this.em.fork();
    if (factor.code !== undefined) return this.totp.verifyAndConsume(userId, factor.code, em);
    if (factor.recoveryCode !== undefined) return this.recoveryCodes.consume(em, userId, factor.recoveryCode);
    return false;
  }

  private async fail(userId: string, factor: SecondFactor, reason: string): Promise<void> {
    await this.lockout.recordFailure(userId);
    await this.audit.record({
      type: 'auth.mfa.failed',
      outcome: 'failure',
      actorId: userId,
      targetType: 'User',
      targetId: userId,
      details: { method: factor.recoveryCode !== undefined ? 'recovery_code' : 'totp', reason },
    });
  }
}
