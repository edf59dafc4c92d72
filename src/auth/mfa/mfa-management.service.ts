import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { DomainError } from '../../common/problem/domain-error';
import { User } from '../../users/user.entity';
import { CurrentPasswordCheck } from '../lockout/current-password-check';
import type { Principal } from '../principal/principal';
import { signedInRecently } from '../principal/recent-sign-in';
import { wrongCode } from '../reauthentication-errors';
import { SessionService } from '../sessions/session.service';
import { SecurityNotices } from '../notifications/security-notices';
import { RECOVERY_CODE_SHAPE, RecoveryCodes } from './recovery-codes';
import { SecondFactorService } from './second-factor.service';
import { type TotpEnrolment, TotpService } from './totp.service';

/**
 * Enrolment and management of TOTP (ASVS 6.5, 7.5.1): sensitive steps re-authenticate, enabling
 * or disabling ends the user's other sessions (7.4.3), and nothing here ever returns or logs a
 * secret after `setup`.
 */
@Injectable()
export class MfaManagementService {
  constructor(
    private readonly em: EntityManager,
    private readonly totp: TotpService,
    private readonly recoveryCodes: RecoveryCodes,
    private readonly secondFactor: SecondFactorService,
    private readonly currentPassword: CurrentPasswordCheck,
    private readonly sessions: SessionService,
    private readonly audit: AuditService,
    private readonly notices: SecurityNotices,
  ) {}

  async setup(principal: Principal, password: string | undefined): Promise<TotpEnrolment> {
    const user = await this.reauthenticate(principal, password);
    if (await this.totp.isEnabled(user.id)) throw new DomainError('conflict', 'TOTP is already enabled; disable it first');
    const enrolment = await this.totp.startEnrolment(user.id, user.email);
    if (!enrolment) throw new DomainError('conflict', 'TOTP is already enabled; disable it first');
    return enrolment;
  }

  async enable(principal: Principal, code: string): Promise<string[]> {
    const result = await this.totp.enable(principal.userId, code);
    if (result === 'conflict') throw new DomainError('conflict', 'No pending TOTP enrolment (already enabled, or setup was not called)');
    if (result === 'invalid') throw wrongCode('code');
    await this.sessions.revokeAllOfUser(principal.userId, 'mfa_enabled', principal.sessionId);
    await this.audit.record({ type: 'auth.mfa.enabled', outcome: 'success', actorId: principal.userId, targetType: 'User', targetId: principal.userId, details: { method: 'totp' } });
    await this.notices.notify(principal.userId, 'mfa_enabled');
    return result;
  }

  async disable(principal: Principal, password: string | undefined, code: string): Promise<void> {
    await this.reauthenticate(principal, password);
    if (!(await this.totp.isEnabled(principal.userId))) throw new DomainError('conflict', 'TOTP is not enabled');
    await this.secondFactor.verifyForUser(principal.userId, RECOVERY_CODE_SHAPE.test(code) ? { recoveryCode: code } : { code });
    await this.em.fork().transactional((tx) => this.totp.remove(tx, principal.userId));
    await this.sessions.revokeAllOfUser(principal.userId, 'mfa_disabled', principal.sessionId);
    await this.audit.record({ type: 'auth.mfa.disabled', outcome: 'success', actorId: principal.userId, targetType: 'User', targetId: principal.userId });
    await this.notices.notify(principal.userId, 'mfa_disabled');
  }

  async regenerateRecoveryCodes(principal: Principal, code: string): Promise<string[]> {
    if (!(await this.totp.isEnabled(principal.userId))) throw new DomainError('conflict', 'TOTP is not enabled');
    await this.secondFactor.verifyForUser(principal.userId, { code });
    const codes = await this.em.fork().transactional((tx) => this.recoveryCodes.replace(tx, principal.userId));
    await this.audit.record({ type: 'auth.mfa.recovery_codes_regenerated', outcome: 'success', actorId: principal.userId, targetType: 'User', targetId: principal.userId });
    await this.notices.notify(principal.userId, 'recovery_codes_regenerated');
    return codes;
  }

  /** An admin's way back for a user who lost both phone and codes. */
  async resetForUser(actorId: string, userId: string): Promise<void> {
    await this.em.fork().transactional((tx) => this.totp.remove(tx, userId));
    await this.sessions.revokeAllOfUser(userId, 'mfa_reset');
    await this.audit.record({ type: 'auth.mfa.reset', outcome: 'success', actorId, targetType: 'User', targetId: userId });
    await this.notices.notify(userId, 'mfa_reset');
  }

  /** The password again, or — for an account without one — a sign-in less than 5 minutes old. */
  private async reauthenticate(principal: Principal, password: string | undefined): Promise<User> {
    const user = await this.em.fork().findOneOrFail(User, { id: principal.userId, deletedAt: null });
    if (!user.passwordHash) {
      if (!signedInRecently(principal)) {
        throw new DomainError('forbidden', 'Sign in again (less than 5 minutes ago) to change MFA');
      }
      return user;
    }
    await this.currentPassword.assert(user, user.passwordHash, password, 'password');
    return user;
  }
}
