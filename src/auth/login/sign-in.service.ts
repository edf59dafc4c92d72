import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { LockoutService } from '../lockout/lockout.service';
import { MfaChallenges } from '../mfa/mfa-challenges';
import { TotpService } from '../mfa/totp.service';
import { isMultiFactor } from '../principal/multi-factor';
import type { CookieSession, SignInMode, TokenPair } from '../sessions/session-credentials';
import { SessionService } from '../sessions/session.service';
import { invalidCredentials, recordLoginFailure } from './password-login.service';

export interface MfaRequired {
  mfaRequired: true;
  mfaToken: string;
  methods: ['totp', 'recovery_code'];
}

export type SignInResult = TokenPair | CookieSession | MfaRequired;

export interface SignInOptions {
  /**
   * The method's own audit event of a completed sign-in (`auth.mfa.verified`, `auth.google.login`),
   * written beside the `auth.login.succeeded` that every completed sign-in gets.
   */
  auditType?: string;
  /**
   * A password sign-in: refuse while the account is locked — checked again when the session or
   * challenge is written, because failures elsewhere may lock it while the hash was being checked —
   * and clear the failure count once the sign-in is complete.
   */
  lockout?: boolean;
}

/**
 * The last step of every successful authentication (password, MFA, Google, passkey): a user with TOTP who
 * has not given it yet gets an MFA challenge; otherwise a new session — never a reused one
 * (ASVS 7.2.4) — written in one statement with its audit record. The common case (no second
 * factor, not locked) is that one statement; the conditions it refused on are looked at only when
 * it wrote nothing.
 */
@Injectable()
export class SignInService {
  constructor(
    private readonly sessions: SessionService,
    private readonly totp: TotpService,
    private readonly challenges: MfaChallenges,
    private readonly lockout: LockoutService,
    private readonly audit: AuditService,
  ) {}

  async complete(userId: string, amr: string[], mode: SignInMode, options: SignInOptions = {}): Promise<SignInResult> {
    const needsSecondFactor = !isMultiFactor(amr);
    const session = await this.sessions.start(userId, amr, mode, {
      unlessLocked: options.lockout,
      unlessSecondFactor: needsSecondFactor,
      // Written only without a pending second factor, so only a completed sign-in clears the count.
      resetFailures: options.lockout,
      audit: ['auth.login.succeeded', ...(options.auditType ? [options.auditType] : [])].map((type) => ({
        type,
        outcome: 'success' as const,
        actorId: userId,
        targetType: 'User',
        targetId: userId,
        details: { amr, mode },
      })),
    });
    if (session) return session;

    // Refused: a second factor is due, or the account is locked, disabled or gone.
    if (needsSecondFactor && (await this.totp.isEnabled(userId))) {
      // With TOTP the failure count is cleared only after the second factor, else wrong codes
      // could be retried forever by signing in again with the password.
      const mfaToken = await this.challenges.open(userId, amr, { unlessLocked: options.lockout });
      if (mfaToken) return { mfaRequired: true, mfaToken, methods: ['totp', 'recovery_code'] };
    }
    const locked = options.lockout && (await this.lockout.isLockedNow(userId));
    await recordLoginFailure(this.audit, userId, { reason: locked ? 'locked' : 'account_unavailable', amr });
    throw invalidCredentials();
  }
}
