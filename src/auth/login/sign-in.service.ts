import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { MfaChallenges } from '../mfa/mfa-challenges';
import { TotpService } from '../mfa/totp.service';
import type { CookieSession, SignInMode, TokenPair } from '../sessions/session-credentials';
import { SessionService } from '../sessions/session.service';

export interface MfaRequired {
  mfaRequired: true;
  mfaToken: string;
  methods: ['totp', 'recovery_code'];
}

export type SignInResult = TokenPair | CookieSession | MfaRequired;

/**
 * The last step of every successful authentication (password, MFA, Google): a user with TOTP who
 * has not given it yet gets an MFA challenge; otherwise a new session — never a reused one
 * (ASVS 7.2.4) — and an audit record.
 */
@Injectable()
export class SignInService {
  constructor(
    private readonly sessions: SessionService,
    private readonly totp: TotpService,
    private readonly challenges: MfaChallenges,
    private readonly audit: AuditService,
  ) {}

  async complete(userId: string, amr: string[], mode: SignInMode, auditType = 'auth.login.succeeded'): Promise<SignInResult> {
    if (!amr.includes('otp') && (await this.totp.isEnabled(userId))) {
      const mfaToken = await this.challenges.open(userId, amr);
      return { mfaRequired: true, mfaToken, methods: ['totp', 'recovery_code'] };
    }
    const result = await this.sessions.start(userId, amr, mode);
    await this.audit.record({ type: auditType, outcome: 'success', actorId: userId, targetType: 'User', targetId: userId, details: { amr, mode } });
    return result;
  }
}
