import { loadConfig } from '../config/app-config';
import { brandCss } from './http/brand-css.controller';
import { de } from './i18n/de';
import { en } from './i18n/en';
import { chooseLocale, translator } from './i18n/locale';
import { pageCsp } from './page-csp';

describe('hosted pages: CSP, brand, language', () => {
  it('the CSP allows no inline script or style, no framing, and only the logo origin besides self for images', () => {
    const csp = pageCsp(loadConfig({ BRAND_LOGO_URL: 'https://cdn.example.com/logo.svg' }));
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("img-src 'self' data: https://cdn.example.com;");
    expect(csp).toContain("form-action 'self';");
    expect(pageCsp(loadConfig({ BRAND_LOGO_URL: '/assets/logo.svg' }), ['https://rp.example'])).toContain("img-src 'self' data:; form-action 'self' https://rp.example;");
  });

  it('the brand stylesheet carries the validated colour', () => {
    expect(brandCss('#aa3300')).toContain('--pico-primary: #aa3300;');
  });

  it('picks ?lang=, then the cookie, then the best Accept-Language range, else English', () => {
    expect(chooseLocale('de', 'en', 'en')).toBe('de');
    expect(chooseLocale('xx', 'de', 'en')).toBe('de');
    expect(chooseLocale(['de'], undefined, 'en')).toBe('en');
    expect(chooseLocale(undefined, undefined, 'fr-CH, de;q=0.9, en;q=0.8')).toBe('de');
    expect(chooseLocale(undefined, undefined, 'en;q=0.5, de-AT;q=0.7')).toBe('de');
    expect(chooseLocale(undefined, undefined, 'de;q=0, en')).toBe('en');
    expect(chooseLocale(undefined, '__proto__', 'fr')).toBe('en');
  });

  it('the German catalog has every English key, each filled in, with the same placeholders', () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect([key, de[key].length > 0]).toEqual([key, true]);
      const holes = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect([key, holes(de[key])]).toEqual([key, holes(en[key])]);
    }
    expect(translator('de')('error.rate', { seconds: 42 })).toBe('Bitte warten Sie 42 Sekunden und versuchen Sie es dann erneut.');
  });
});
