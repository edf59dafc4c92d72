import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import type { CookieSession, SignInMode, TokenPair } from '../sessions/session-credentials';
import { SessionService } from '../sessions/session.service';

/**
 * The last step of every successful sign-in (password now; MFA and Google reuse it): a new
 * session — never a reused one (ASVS 7.2.4) — and an audit record.
 */
@Injectable()
export class SignInService {
  constructor(
    private readonly sessions: SessionService,
    private readonly audit: AuditService,
  ) {}

  async complete(userId: string, amr: string[], mode: SignInMode, auditType = 'auth.login.succeeded'): Promise<TokenPair | CookieSession> {
    const result = await this.sessions.start(userId, amr, mode);
    await this.audit.record({ type: auditType, outcome: 'success', actorId: userId, targetType: 'User', targetId: userId, details: { amr, mode } });
    return result;
  }
}
