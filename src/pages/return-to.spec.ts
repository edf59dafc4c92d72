import { DEFAULT_RETURN_TO, safeReturnTo } from './return-to';

const APP = 'https://auth.example.com';
const ALLOWED = ['https://app.example.com'];
const check = (value: unknown) => safeReturnTo(value, APP, ALLOWED);

describe('safeReturnTo (open-redirect defence)', () => {
  it.each([
    ['/account', '/account'],
    ['/oidc/interaction/abc123', '/oidc/interaction/abc123'],
    ['/account?tab=sessions#mfa', '/account?tab=sessions#mfa'],
    ['/%2F%2Fevil.example', '/%2F%2Fevil.example'],
    ['/a/../account', '/account'],
    ['https://auth.example.com/account', 'https://auth.example.com/account'],
    ['https://app.example.com/after-login?x=1', 'https://app.example.com/after-login?x=1'],
  ])('accepts %s as %s', (input, expected) => {
    expect(check(input)).toBe(expected);
  });

  it.each([
    '//evil.example',
    '//evil.example/account',
    '/\\evil.example',
    '\\\\evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    ' //evil.example',
    'https:evil.example',
    'https:/evil.example',
    'http://evil.example',
    'https://evil.example',
    'https://app.example.com.evil.example/',
    'https://user@app.example.com/',
    'HTTPS://EVIL.EXAMPLE',
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    'javascript%3Aalert(1)',
    'data:text/html,<script>alert(1)</script>',
    '%2F%2Fevil.example',
    '%2f%2fevil.example',
    '/%5Cevil.example'.replace('%5C', '\\'),
    'evil.example',
    '',
  ])('refuses %j', (input) => {
    expect(check(input)).toBe(DEFAULT_RETURN_TO);
  });

  it('refuses an over-long value', () => {
    expect(check(`/${'x'.repeat(3000)}`)).toBe(DEFAULT_RETURN_TO);
  });

  it('refuses non-strings (a repeated query parameter arrives as an array)', () => {
    expect(check(['/account', '//evil.example'])).toBe(DEFAULT_RETURN_TO);
    expect(check(undefined)).toBe(DEFAULT_RETURN_TO);
  });
});
