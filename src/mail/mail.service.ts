import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import type { MailMessage } from './mail-message';
import { MailQueue, type MailRequestHandler } from './mail-queue';
import { accountAlreadyExists, accountClaimed, confirmEmailChange, linkTo, passkeyChanged, passwordReset, type SecurityNotice, securityNotice, setPassword, verifyEmail } from './mail-templates';

/**
 * What the rest of the service calls. Every method only enqueues (one INSERT) and resolves before
 * anything is sent, so no response's timing depends on mail; delivery is the queue's worker's job.
 */
@Injectable()
export class MailService {
  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    private readonly queue: MailQueue,
  ) {}

  enqueue(message: MailMessage): Promise<void> {
    return this.queue.enqueue(message);
  }

  /**
   * For requests whose mail depends on the account (forgot-password, resend-verification): the
   * request path only enqueues `kind` for `email` — the same single INSERT for a known and an
   * unknown address — and the queue's worker runs the handler registered with `onRequest`.
   */
  request(kind: string, email: string): Promise<void> {
    return this.queue.request(kind, email);
  }

  onRequest(kind: string, handler: MailRequestHandler): void {
    this.queue.onRequest(kind, handler);
  }

  sendVerification(to: string, token: string): Promise<void> {
    return this.enqueue({ to, ...verifyEmail(linkTo(this.config.appUrl, '/verify-email', token)) });
  }

  sendPasswordReset(to: string, token: string): Promise<void> {
    return this.enqueue({ to, ...passwordReset(linkTo(this.config.appUrl, '/reset-password', token)) });
  }

  /** To the owner of an active account that someone tried to register again. */
  sendAccountExists(to: string): Promise<void> {
    return this.enqueue({ to, ...accountAlreadyExists(`${this.config.appUrl}/login`, `${this.config.appUrl}/forgot-password`) });
  }

  /** To the Google user who claimed an unverified account registered with their address. */
  sendAccountClaimed(to: string): Promise<void> {
    return this.enqueue({ to, ...accountClaimed(`${this.config.appUrl}/login`) });
  }

  /** An admin-provisioned account without a password: a reset token, worded as "set". */
  sendSetPassword(to: string, token: string): Promise<void> {
    return this.enqueue({ to, ...setPassword(linkTo(this.config.appUrl, '/reset-password', token)) });
  }

  /** ASVS 6.3.7: what changed, when and from where, with a link to the account page. */
  sendSecurityNotice(to: string, notice: SecurityNotice): Promise<void> {
    return this.enqueue({ to, ...securityNotice(notice, `${this.config.appUrl}/account`) });
  }

  sendEmailChange(to: string, token: string): Promise<void> {
    return this.enqueue({ to, ...confirmEmailChange(linkTo(this.config.appUrl, '/confirm-email', token)) });
  }

  /** A passkey was added to or removed from the account. */
  sendPasskeyChanged(to: string, change: 'added' | 'removed', name: string): Promise<void> {
    return this.enqueue({ to, ...passkeyChanged(change, name, `${this.config.appUrl}/account`) });
  }
}
