import { securityHeaders } from './security-headers';

describe('securityHeaders', () => {
  it("are helmet's headers with Bastion's CSP and HSTS, computed once", () => {
    const headers = securityHeaders();
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN', 'referrer-policy': 'no-referrer' });
    expect(Object.isFrozen(headers)).toBe(true);
  });
});
