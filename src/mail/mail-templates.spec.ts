import { accountAlreadyExists, escapeHtml, linkTo, passwordReset, setPassword, verifyEmail } from './mail-templates';

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
});
