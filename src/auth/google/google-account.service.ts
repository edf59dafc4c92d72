import { EntityManager, LockMode, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { DomainError } from '../../common/problem/domain-error';
import { AppConfig } from '../../config/app-config';
import { MailService } from '../../mail/mail.service';
import { DEFAULT_ROLE, grantRoles } from '../../users/user-roles';
import { User, UserStatus } from '../../users/user.entity';
import { EmailTokenPurpose } from '../email-tokens/email-token.entity';
import { EmailTokenService } from '../email-tokens/email-token.service';
import { TotpService } from '../mfa/totp.service';
import { SessionService } from '../sessions/session.service';
import { SecurityNotices } from '../notifications/security-notices';

/** What Google's OpenID userinfo says (the profile's raw JSON). */
export interface GoogleClaims {
  sub?: unknown;
  email?: unknown;
  email_verified?: unknown;
  hd?: unknown;
  name?: unknown;
}

const PROVIDER = 'google';

/**
 * Who a Google identity is (API.md "Google account resolution"): a linked `sub` first; else a
 * verified local account with that email is linked; an unverified one is claimed — its squatter's
 * password, sessions, tokens and second factor wiped — since the mailbox owner wins; else a new user when registration is
 * open. The Workspace domain comes from the `hd` claim, never from the email's domain.
 */
@Injectable()
export class GoogleAccountService {
  constructor(
    private readonly em: EntityManager,
    private readonly emailTokens: EmailTokenService,
    private readonly audit: AuditService,
    private readonly totp: TotpService,
    private readonly sessions: SessionService,
    private readonly mail: MailService,
    private readonly notices: SecurityNotices,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  async resolve(claims: GoogleClaims): Promise<string> {
    const sub = typeof claims.sub === 'string' && claims.sub.length <= 255 ? claims.sub : null;
    const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : null;
    if (!sub || !email || email.length > 254) throw new DomainError('badGateway', 'Google returned an incomplete profile');
    if (claims.email_verified !== true && claims.email_verified !== 'true') throw new DomainError('forbidden', 'Your Google email address is not verified');
    const allowed = this.config.google?.allowedDomains ?? [];
    const hd = typeof claims.hd === 'string' ? claims.hd.toLowerCase() : null;
    if (allowed.length && (!hd || !allowed.includes(hd))) throw new DomainError('forbidden', 'This Google account is not in an allowed Workspace domain');
    const displayName = typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim().slice(0, 100) : email;
    try {
      return await this.resolveOnce(sub, email, displayName);
    } catch (err) {
      // A concurrent first sign-in of the same identity created the link or the user: resolve again.
      if (err instanceof UniqueConstraintViolationException) return this.resolveOnce(sub, email, displayName);
      throw err;
    }
  }

  private async resolveOnce(sub: string, email: string, displayName: string): Promise<string> {
    const em = this.em.fork();
    const linked: { user_id: string }[] = await em.execute('SELECT user_id FROM external_identities WHERE provider = ? AND subject = ?', [PROVIDER, sub]);
    if (linked.length) return this.usable(em, linked[0].user_id);

    const outcome = await em.transactional(async (tx) => {
      const existing = await tx.findOne(User, { email }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (existing && !existing.deletedAt) {
        if (existing.status === UserStatus.Disabled) throw new DomainError('accountDisabled', 'This account is disabled');
        const claimed = !existing.emailVerified;
        if (claimed) {
          // Nothing the squatter set up survives: password, links, second factor (their TOTP would
          // otherwise guard the owner's account), and — below, before any new session — sessions.
          await tx.execute(
            `UPDATE users SET password_hash = NULL, email_verified = true, status = 'active', display_name = ?, updated_at = now() WHERE id = ?`,
            [displayName, existing.id],
          );
          await this.emailTokens.revokeAll(tx, existing.id, EmailTokenPurpose.VerifyEmail);
          await this.emailTokens.revokeAll(tx, existing.id, EmailTokenPurpose.ResetPassword);
          await this.totp.remove(tx, existing.id);
        }
        await this.link(tx, sub, existing.id, email);
        return { userId: existing.id, event: 'auth.google.linked', claimed };
      }
      if (existing) throw new DomainError('forbidden', 'This account was deleted');
      if (!this.config.registration.open) throw new DomainError('forbidden', 'Registration is closed');
      const user = tx.create(User, { email, displayName, passwordHash: null, emailVerified: true, status: UserStatus.Active });
      await tx.flush();
      await grantRoles(tx, user.id, [DEFAULT_ROLE]);
      await this.link(tx, sub, user.id, email);
      return { userId: user.id, event: 'user.created', claimed: false };
    });
    if (outcome.claimed) await this.afterClaim(outcome.userId, email);
    await this.audit.record({
      type: outcome.event,
      outcome: 'success',
      actorId: outcome.userId,
      targetType: 'User',
      targetId: outcome.userId,
      details: { provider: PROVIDER, email, ...(outcome.claimed ? { claimedPendingAccount: true } : {}) },
    });
    if (outcome.event === 'auth.google.linked') await this.notices.notify(outcome.userId, 'identity_linked');
    return outcome.userId;
  }

  /** The squatter's sessions and refresh tokens end (on every instance) before the owner's first one starts. */
  private async afterClaim(userId: string, email: string): Promise<void> {
    const ended = await this.sessions.revokeAllOfUser(userId, 'account_claimed');
    await this.audit.record({
      type: 'account.claimed',
      outcome: 'success',
      actorId: userId,
      targetType: 'User',
      targetId: userId,
      details: { provider: PROVIDER, sessionsEnded: ended.length, removed: ['password', 'sessions', 'mfa', 'email_links'] },
    });
    await this.mail.sendAccountClaimed(email);
  }

  /** The Google identities linked to an account (for its owner's account page). */
  async linkedTo(userId: string): Promise<{ email: string; linkedAt: Date }[]> {
    const rows: { email: string; created_at: Date }[] = await this.em
      .fork()
      .execute('SELECT email, created_at FROM external_identities WHERE user_id = ? AND provider = ? ORDER BY created_at', [userId, PROVIDER]);
    return rows.map((r) => ({ email: r.email, linkedAt: new Date(r.created_at) }));
  }

  private async link(tx: EntityManager, sub: string, userId: string, email: string): Promise<void> {
    await tx.execute('INSERT INTO external_identities (id, provider, subject, user_id, email) VALUES (gen_random_uuid(), ?, ?, ?, ?)', [PROVIDER, sub, userId, email]);
  }

  private async usable(em: EntityManager, userId: string): Promise<string> {
    const user = await em.findOne(User, { id: userId });
    if (!user || user.deletedAt) throw new DomainError('forbidden', 'This account was deleted');
    if (user.status === UserStatus.Disabled) throw new DomainError('accountDisabled', 'This account is disabled');
    return user.id;
  }
}
