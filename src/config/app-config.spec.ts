import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './app-config';
import { ensureDevelopmentSecrets } from './development-secrets';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the configuration to be refused');
}

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      env: 'development',
      port: 3000,
      appUrl: 'http://localhost:3000',
      jwt: { issuer: 'http://localhost:3000', audience: 'bastion', accessTokenTtl: 900 },
      sessions: { refreshTokenTtl: 2592000, idleTtl: 604800 },
      lockout: { threshold: 5, durationSeconds: 900, maxDurationSeconds: 3600 },
      throttle: { ttlSeconds: 60, limit: 600, authLimit: 10 },
      passwords: { minLength: 12, hibpEnabled: false },
      registration: { open: true, emailVerificationRequired: true },
      database: { migrateOnStart: true },
      http: { headersTimeoutSeconds: 10, requestTimeoutSeconds: 30 },
    });
    expect(c.google).toBeUndefined();
    expect(c.database.url).toBeUndefined();
  });

  it('APP_URL defaults to http://localhost:${PORT}; the pages get their brand and return_to origins', () => {
    expect(loadConfig({ PORT: '8080' }).appUrl).toBe('http://localhost:8080');
    expect(loadConfig({ PORT: '8080', APP_URL: 'https://auth.example.com/' }).appUrl).toBe('https://auth.example.com');
    const c = loadConfig({ RETURN_TO_ORIGINS: 'https://app.example.com/path, http://localhost:5173', BRAND_NAME: 'Acme SSO', BRAND_PRIMARY_COLOR: '#AA3300', BRAND_LOGO_URL: '/assets/logo.svg' });
    expect(c.pages).toEqual({
      returnToOrigins: ['https://app.example.com', 'http://localhost:5173'],
      brand: { name: 'Acme SSO', logoUrl: '/assets/logo.svg', primaryColor: '#aa3300' },
    });
    expect(loadConfig({}).pages.brand).toEqual({ name: 'Bastion', logoUrl: undefined, primaryColor: '#0b5fff' });
  });

  it('refuses a brand colour or logo that could inject CSS or load from anywhere', () => {
    expect(problemsOf({ BRAND_PRIMARY_COLOR: 'red; } body { display:none' })[0]).toMatch(/^BRAND_PRIMARY_COLOR: must be a hex colour/);
    expect(problemsOf({ BRAND_LOGO_URL: 'javascript:alert(1)' })[0]).toMatch(/^BRAND_LOGO_URL: /);
    expect(problemsOf({ BRAND_LOGO_URL: '/uploads/logo.png' })[0]).toMatch(/^BRAND_LOGO_URL: /);
    expect(problemsOf({ RETURN_TO_ORIGINS: 'javascript:alert(1)' })[0]).toMatch(/^RETURN_TO_ORIGINS: /);
  });

  it('reports one line per bad variable and never echoes a value', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      THROTTLE_LIMIT: '-1',
      JWT_PRIVATE_KEY: 'hunter2-not-a-key',
      MFA_ENCRYPTION_KEY: 'c2hvcnQ=',
      AUTH_REGISTRATION: 'maybe',
      GOOGLE_USERINFO_URL: 'https://example.com/me',
    });
    const names = problems.map((p) => p.split(':')[0]).sort();
    expect(names).toEqual(['AUTH_REGISTRATION', 'GOOGLE_USERINFO_URL', 'JWT_PRIVATE_KEY', 'MFA_ENCRYPTION_KEY', 'PORT', 'THROTTLE_LIMIT']);
    expect(problems.join('\n')).not.toMatch(/hunter2|c2hvcnQ=/);
  });

  it('refuses to start in production without its secrets', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems).toEqual([
      'JWT_PRIVATE_KEY: is required when NODE_ENV=production',
      'MFA_ENCRYPTION_KEY: is required when NODE_ENV=production',
      'OIDC_COOKIE_SECRET: is required when NODE_ENV=production',
      'DATABASE_URL: is required when NODE_ENV=production',
    ]);
  });

  it('refuses Google sign-in in production without OAUTH_STATE_SECRET (the state cookie key of its own), and a malformed one anywhere', () => {
    const google = { GOOGLE_CLIENT_ID: 'id', GOOGLE_CLIENT_SECRET: 'secret', GOOGLE_CALLBACK_URL: 'https://bastion.example.com/api/v1/auth/google/callback' };
    expect(problemsOf({ NODE_ENV: 'production', ...google })).toContain('OAUTH_STATE_SECRET: is required when NODE_ENV=production and Google sign-in is configured');
    expect(problemsOf({ NODE_ENV: 'production' }).some((p) => p.startsWith('OAUTH_STATE_SECRET'))).toBe(false);
    expect(problemsOf({ OAUTH_STATE_SECRET: 'c2hvcnQ=' })).toEqual(['OAUTH_STATE_SECRET: must be 32 bytes, base64-encoded']);
    const secret = Buffer.alloc(32, 7);
    expect(loadConfig({ ...google, OAUTH_STATE_SECRET: secret.toString('base64') }).oauth.stateSecret?.equals(secret)).toBe(true);
  });

  it('refuses an HTTP_HEADERS_TIMEOUT longer than HTTP_REQUEST_TIMEOUT (Node would throw at start)', () => {
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT: '40', HTTP_REQUEST_TIMEOUT: '30' })).toThrow('HTTP_HEADERS_TIMEOUT: must not be longer than HTTP_REQUEST_TIMEOUT');
    expect(loadConfig({ HTTP_HEADERS_TIMEOUT: '5', HTTP_REQUEST_TIMEOUT: '5' }).http).toEqual({ headersTimeoutSeconds: 5, requestTimeoutSeconds: 5 });
  });

  it('reads the OIDC cookie key and the back-channel allow-list (hosts in lower case)', () => {
    expect(problemsOf({ OIDC_COOKIE_SECRET: 'too short' })[0]).toMatch(/^OIDC_COOKIE_SECRET: /);
    const config = loadConfig({ OIDC_COOKIE_SECRET: 'x'.repeat(32), OIDC_BACKCHANNEL_ALLOWED_HOSTS: 'RP.internal, 10.0.0.5' });
    expect(config.oidc).toEqual({ cookieSecret: 'x'.repeat(32), backchannelAllowedHosts: ['rp.internal', '10.0.0.5'] });
  });

  it('requires Google settings and bootstrap admin settings to come in complete sets', () => {
    expect(problemsOf({ GOOGLE_CLIENT_ID: 'id' })[0]).toMatch(/^GOOGLE_CLIENT_ID: /);
    expect(problemsOf({ BOOTSTRAP_ADMIN_EMAIL: 'a@example.com' })[0]).toMatch(/^BOOTSTRAP_ADMIN_PASSWORD: /);
  });

  it('derives passkey settings from APP_URL and refuses an RP ID that does not cover every origin', () => {
    expect(loadConfig({ APP_URL: 'https://id.example.com/base/' }).webauthn).toEqual({ rpId: 'id.example.com', rpName: 'Bastion', origins: ['https://id.example.com'] });
    const parent = loadConfig({ WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'https://id.example.com, https://example.com:8443/' });
    expect(parent.webauthn.origins).toEqual(['https://id.example.com', 'https://example.com:8443']);
    expect(problemsOf({ WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: 'https://evilexample.com' })).toEqual([
      'WEBAUTHN_RP_ID: must be the host of every WEBAUTHN_ORIGINS origin, or a parent domain of it',
    ]);
    expect(problemsOf({ WEBAUTHN_RP_ID: 'https://example.com' })[0]).toMatch(/^WEBAUTHN_RP_ID: /);
  });

  it('parses lists, several PEM blocks and TRUST_PROXY forms', () => {
    const pem = (n: number) => `-----BEGIN PUBLIC KEY-----\nAAA${n}\n-----END PUBLIC KEY-----`;
    const c = loadConfig({
      CORS_ORIGINS: 'https://a.example.com, https://b.example.com/',
      GOOGLE_ALLOWED_DOMAINS: 'Example.com,corp.example.com',
      GOOGLE_CLIENT_ID: 'id',
      GOOGLE_CLIENT_SECRET: 'secret',
      GOOGLE_CALLBACK_URL: 'http://localhost:3000/api/v1/auth/google/callback',
      JWT_PREVIOUS_PUBLIC_KEYS: `${pem(1)}\n${pem(2)}`,
      TRUST_PROXY: '1',
    });
    expect(c.cors.origins).toEqual(['https://a.example.com', 'https://b.example.com']);
    expect(c.google?.allowedDomains).toEqual(['example.com', 'corp.example.com']);
    expect(c.jwt.previousPublicKeysPem).toHaveLength(2);
    expect(c.trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8' }).trustProxy).toBe('10.0.0.0/8');
  });

  it('starts in production without OAUTH_STATE_SECRET when Google sign-in is not configured (nothing generated)', () => {
    const config = loadConfig({ NODE_ENV: 'production', DATA_DIR: '/nonexistent/never-written', JWT_PRIVATE_KEY: 'x PRIVATE KEY x', MFA_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'), DATABASE_URL: 'postgres://db/bastion', OIDC_COOKIE_SECRET: 'o'.repeat(32) });
    expect(ensureDevelopmentSecrets(config, () => undefined).oauth.stateSecret).toBeUndefined();
  });

  it('generates development secrets once, keeps them private, and reuses them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bastion-secrets-'));
    try {
      const lines: string[] = [];
      const first = ensureDevelopmentSecrets(loadConfig({ DATA_DIR: dir }), (l) => lines.push(l));
      expect(first.jwt.privateKeyPem).toContain('BEGIN PRIVATE KEY');
      expect(first.mfa.encryptionKey).toHaveLength(32);
      expect(statSync(join(dir, 'jwt-private-key.pem')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'mfa-encryption.key')).mode & 0o777).toBe(0o600);
      expect(first.oidc.cookieSecret?.length).toBeGreaterThanOrEqual(32);
      expect(statSync(join(dir, 'oidc-cookie.key')).mode & 0o777).toBe(0o600);
      const second = ensureDevelopmentSecrets(loadConfig({ DATA_DIR: dir }), (l) => lines.push(l));
      expect(second.jwt.privateKeyPem).toBe(first.jwt.privateKeyPem);
      expect(second.mfa.encryptionKey?.equals(first.mfa.encryptionKey!)).toBe(true);
      // The OAuth state cookie's secret is generated like the others, on its own.
      expect(first.oauth.stateSecret).toHaveLength(32);
      expect(statSync(join(dir, 'oauth-state.key')).mode & 0o777).toBe(0o600);
      expect(second.oauth.stateSecret?.equals(first.oauth.stateSecret!)).toBe(true);
      expect(first.oauth.stateSecret?.equals(first.mfa.encryptionKey!)).toBe(false);
      expect(second.oidc.cookieSecret).toBe(first.oidc.cookieSecret);
      expect(lines.join('\n')).not.toContain(first.oidc.cookieSecret);
      expect(lines.join('\n')).not.toContain(readFileSync(join(dir, 'mfa-encryption.key'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
