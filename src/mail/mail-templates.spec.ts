import { accountAlreadyExists, confirmEmailChange, escapeHtml, linkTo, passwordReset, securityNotice, setPassword, verifyEmail } from './mail-templates';

describe('mail templates', () => {
  it('builds links under APP_URL, keeping its path prefix and encoding the token', () => {
    expect(linkTo('https://auth.example.com', '/verify-email', 'abc_DEF-123')).toBe('https://auth.example.com/verify-email?token=abc_DEF-123');
    expect(linkTo('https://intranet.example.com/auth/', '/reset-password', 'a+b/c=')).toBe(
      'https://intranet.example.com/auth/reset-password?token=a%2Bb%2Fc%3D',
    );
    const url = new URL(linkTo('https://x.example', '/verify-email', 'a&b=c d'));
    expect(url.searchParams.get('token')).toBe('a&b=c d');
  });

  it('escapes every HTML metacharacter', () => {
    expect(escapeHtml(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
  });

  it('escapes links interpolated into the HTML part, and keeps them verbatim in the text part', () => {
    const link = 'https://x.example/verify-email?token=t&x="><script>alert(1)</script>';
    const mail = verifyEmail(link);
    expect(mail.text).toContain(link);
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('href="https://x.example/verify-email?token=t&amp;x=&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
  });

  it.each([
    ['verification', verifyEmail, 'Verify your email address'],
    ['password reset', passwordReset, 'Reset your password'],
    ['set password', setPassword, 'Set your password'],
    ['email change', confirmEmailChange, 'Confirm your new email address'],
  ])('renders the %s mail with its link in both parts', (_name, template, subject) => {
    const link = 'https://auth.example.com/path?token=tok123';
    const mail = template(link);
    expect(mail.subject).toBe(subject);
    expect(mail.text).toContain(link);
    expect(mail.html).toContain('href="https://auth.example.com/path?token=tok123"');
  });

  it('tells an existing account owner where to sign in or reset, without any token', () => {
    const mail = accountAlreadyExists('https://a.example/login', 'https://a.example/forgot-password');
    expect(mail.subject).toBe('You already have an account');
    expect(mail.text).toContain('https://a.example/login');
    expect(mail.text).toContain('https://a.example/forgot-password');
    expect(mail.text).not.toContain('token=');
    expect(mail.html).toContain('href="https://a.example/forgot-password"');
  });

  it('ASVS 6.3.7: a security notice says what, when and from where, escapes the user agent, and links to /account', () => {
    const at = new Date('2026-12-03T20:15:00Z');
    const mail = securityNotice({ event: 'mfa_disabled', at, ip: '203.0.113.7', userAgent: '<img src=x onerror=alert(1)>' }, 'https://auth.example.com/account');
    expect(mail.subject).toBe('Security notice for your account');
    expect(mail.text).toContain('Two-step verification was turned off for your account.');
    expect(mail.text).toContain('When: Thu, 03 Dec 2026 20:15:00 GMT');
    expect(mail.text).toContain('203.0.113.7');
    expect(mail.html).not.toContain('<img');
    expect(mail.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(mail.html).toContain('href="https://auth.example.com/account"');
    const unknown = securityNotice({ event: 'password_changed', at, ip: null, userAgent: null }, 'https://a.example/account');
    expect(unknown.text).toContain('IP address unknown');
  });
});
