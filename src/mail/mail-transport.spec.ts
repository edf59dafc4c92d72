import { Logger } from '@nestjs/common';
import { loadConfig } from '../config/app-config';
import { generateSigningKeyPem } from '../config/development-secrets';
import type { MailMessage } from './mail-message';
import { createMailTransport, LogMailTransport, SmtpMailTransport } from './mail-transport';

const message: MailMessage = {
  to: 'ada@example.com',
  subject: 'Reset your password',
  text: 'Choose a new password: https://auth.example.com/reset-password?token=secret-token-123',
};

function config(env: Record<string, string>) {
  return loadConfig({ APP_URL: 'https://auth.example.com', ...env });
}

describe('mail transports', () => {
  let log: jest.SpyInstance;
  let warn: jest.SpyInstance;
  beforeEach(() => {
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('delivers over SMTP when SMTP_URL is set, and logs otherwise', () => {
    expect(createMailTransport(config({ NODE_ENV: 'test', SMTP_URL: 'smtp://127.0.0.1:2525' }))).toBeInstanceOf(SmtpMailTransport);
    expect(createMailTransport(config({ NODE_ENV: 'test' }))).toBeInstanceOf(LogMailTransport);
  });

  it('logs the whole mail, link included, in development and test', async () => {
    await new LogMailTransport(config({ NODE_ENV: 'development' })).deliver(message);
    const line = String(log.mock.calls[0][0]);
    expect(line).toContain('ada@example.com');
    expect(line).toContain('token=secret-token-123');
    expect(warn).not.toHaveBeenCalled();
  });

  it('never logs the body in production, only the envelope and a warning', async () => {
    const production = config({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://localhost/bastion',
      JWT_PRIVATE_KEY: generateSigningKeyPem(),
      MFA_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
      OIDC_COOKIE_SECRET: 'o'.repeat(32),
    });
    const transport = new LogMailTransport(production);
    await transport.deliver(message);
    const lines = [...log.mock.calls, ...warn.mock.calls].map((call) => String(call[0]));
    expect(lines.some((l) => l.includes('SMTP_URL is not set') && l.includes('ada@example.com') && l.includes(message.subject))).toBe(true);
    expect(lines.join('\n')).not.toContain('secret-token-123');
    expect(lines.join('\n')).not.toContain('Choose a new password');
  });
});
