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
    });
    expect(c.google).toBeUndefined();
    expect(c.database.url).toBeUndefined();
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

  it('generates development secrets once, keeps them private, and reuses them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bastion-secrets-'));
    try {
      const lines: string[] = [];
      const first = ensureDevelopmentSecrets(loadConfig({ DATA_DIR: dir }), (l) => lines.push(l));
      expect(first.jwt.privateKeyPem).toContain('BEGIN PRIVATE KEY');
      expect(first.mfa.encryptionKey).toHaveLength(32);
      expect(statSync(join(dir, 'jwt-private-key.pem')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'mfa-encryption.key')).mode & 0o777).toBe(0o600);
      const second = ensureDevelopmentSecrets(loadConfig({ DATA_DIR: dir }), (l) => lines.push(l));
      expect(second.jwt.privateKeyPem).toBe(first.jwt.privateKeyPem);
      expect(second.mfa.encryptionKey?.equals(first.mfa.encryptionKey!)).toBe(true);
      // The OAuth state cookie's secret is generated like the others, on its own.
      expect(first.oauth.stateSecret).toHaveLength(32);
      expect(statSync(join(dir, 'oauth-state.key')).mode & 0o777).toBe(0o600);
      expect(second.oauth.stateSecret?.equals(first.oauth.stateSecret!)).toBe(true);
      expect(first.oauth.stateSecret?.equals(first.mfa.encryptionKey!)).toBe(false);
      expect(lines.join('\n')).not.toContain(readFileSync(join(dir, 'mfa-encryption.key'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
