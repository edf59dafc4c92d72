import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { requestMeta } from '../../common/http/request-meta';
import type { SecurityEvent } from '../../mail/mail-templates';
import { MailService } from '../../mail/mail.service';

/**
 * Security notification mails (ASVS 6.3.7): after a change that matters to the account's safety,
 * its owner gets what happened, when and from which IP and user agent — through the same mail
 * queue as every mail, and audited. Called once the change is committed; a failure to queue is
 * logged and audited as such but never undoes or fails the change the person just made.
 */
@Injectable()
export class SecurityNotices {
  private readonly logger = new Logger('SecurityNotices');

  constructor(
    private readonly em: EntityManager,
    private readonly mail: MailService,
    private readonly audit: AuditService,
  ) {}

  /** `to` overrides the account's current address (an email change notifies the old one). */
  async notify(userId: string, event: SecurityEvent, to?: string): Promise<void> {
    const meta = requestMeta.current();
    try {
      const address = to ?? (await this.addressOf(userId));
      if (!address) return;
      await this.mail.sendSecurityNotice(address, { event, at: new Date(), ip: meta.ip, userAgent: meta.userAgent });
      await this.audit.record({ type: 'mail.security_notice', outcome: 'success', actorId: null, targetType: 'User', targetId: userId, details: { event } });
    } catch (err) {
      this.logger.error(`Security notice "${event}" for user ${userId} could not be queued: ${(err as Error).message}`);
      await this.audit.record({ type: 'mail.security_notice', outcome: 'failure', actorId: null, targetType: 'User', targetId: userId, details: { event } }).catch(() => undefined);
    }
  }

  private async addressOf(userId: string): Promise<string | undefined> {
    const rows: { email: string }[] = await this.em.fork().execute('SELECT email FROM users WHERE id = ? AND deleted_at IS NULL', [userId]);
    return rows[0]?.email;
  }
}
