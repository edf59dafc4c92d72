import { originOf, widenFormAction } from './form-action';

describe('widenFormAction', () => {
  const csp = "default-src 'self';form-action 'self';frame-ancestors 'none'";

  it('adds the origins to form-action only', () => {
    expect(widenFormAction(csp, ['https://app.example.test'])).toBe("default-src 'self';form-action 'self' https://app.example.test;frame-ancestors 'none'");
  });

  it('ignores anything that is not a plain http(s) origin (no directive injection)', () => {
    expect(widenFormAction(csp, ["https://x.test; script-src 'unsafe-inline'", 'javascript:alert(1)'])).toBe(csp);
    expect(originOf('not a url')).toEqual([]);
    expect(originOf('https://app.example.test/path?q=1')).toEqual(['https://app.example.test']);
  });
});
