import { REDACTED, redactSecrets, redactUrl } from './redact';

// redactSecrets runs where deep objects are logged or stored once (errors: root-logger.ts; audit
// details: audit.service.ts), never on every log line.
describe('redactSecrets and redactUrl', () => {
  it('redacts secret-named fields at any depth and keeps the rest', () => {
    const out = redactSecrets({
      email: 'a@example.com',
      statusCode: 401,
      password: 'p',
      body: { newPassword: 'n', refreshToken: 'r', nested: { clientSecret: 's', code: '123456', recoveryCode: 'x' } },
      headers: [{ authorization: 'Bearer t', cookie: 'sid=1' }],
    });
    expect(out).toEqual({
      email: 'a@example.com',
      statusCode: 401,
      password: REDACTED,
      body: { newPassword: REDACTED, refreshToken: REDACTED, nested: { clientSecret: REDACTED, code: REDACTED, recoveryCode: REDACTED } },
      headers: [{ authorization: REDACTED, cookie: REDACTED }],
    });
  });

  it('redacts secret query parameters in URLs', () => {
    expect(redactUrl('/api/v1/auth/google/callback?code=abc&state=xyz&x=1')).toBe(
      `/api/v1/auth/google/callback?code=${encodeURIComponent(REDACTED)}&state=${encodeURIComponent(REDACTED)}&x=1`,
    );
    expect(redactUrl('/verify?token=t')).not.toContain('=t');
    expect(redactUrl('/reset?newPassword=p&client_secret=s&apiKey=k')).not.toMatch(/=p|=s|=k/);
    expect(redactUrl('/health/live')).toBe('/health/live');
  });
});
