import { Logger } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import type { AppConfig } from '../config/app-config';
import type { MailMessage } from './mail-message';

/** The port the mail worker delivers through; chosen once, by whether SMTP_URL is set. */
export abstract class MailTransport {
  /** Resolves once the message is accepted; rejects on a failure worth retrying. */
  abstract deliver(message: MailMessage): Promise<void>;
}

export class SmtpMailTransport extends MailTransport {
  private readonly transporter: Transporter;

  constructor(config: AppConfig) {
    super();
    if (!config.mail.smtpUrl) throw new Error('SmtpMailTransport needs SMTP_URL');
    // Nodemailer's defaults wait up to 10 minutes on a silent socket; a stuck relay must instead
    // fail the attempt well inside the job's expiry so that the queue retries it.
    // (Options in the URL, e.g. `?pool=true`, take precedence over these.)
    this.transporter = createTransport(
      { url: config.mail.smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 },
      { from: config.mail.from },
    );
  }

  async deliver(message: MailMessage): Promise<void> {
    await this.transporter.sendMail({ to: message.to, subject: message.subject, text: message.text, html: message.html });
  }
}

/**
 * Without SMTP_URL mails go to the log. In development and test the whole text is written, so a
 * developer can follow the link; in production only the envelope, because links carry one-time
 * tokens and logs are read by more people (and systems) than the recipient's mailbox.
 */
export class LogMailTransport extends MailTransport {
  private readonly logger = new Logger('Mail');

  constructor(private readonly config: AppConfig) {
    super();
    if (config.env === 'production') this.logger.warn('SMTP_URL is not set: mails are not delivered, only their recipients and subjects are logged');
  }

  async deliver(message: MailMessage): Promise<void> {
    if (this.config.env === 'production') {
      this.logger.warn(`SMTP_URL is not set: mail "${message.subject}" to ${message.to} was not sent (body withheld)`);
      return;
    }
    this.logger.log(`Mail to ${message.to} (SMTP_URL is not set, so it is only logged)\nSubject: ${message.subject}\n\n${message.text}`);
  }
}

export function createMailTransport(config: AppConfig): MailTransport {
  return config.mail.smtpUrl ? new SmtpMailTransport(config) : new LogMailTransport(config);
}
