import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AppConfig } from './app-config';

/** A fresh RS256 signing key as PKCS#8 PEM (also used by `npm run keys:generate`). */
export function generateSigningKeyPem(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function readOrCreate(file: string, create: () => string): { value: string; created: boolean } {
  if (existsSync(file)) return { value: readFileSync(file, 'utf8'), created: false };
  const value = create();
  writeFileSync(file, value, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { value, created: true };
}

/**
 * Outside production, secrets that were not configured are generated once and kept under
 * DATA_DIR (mode 0600), so `npm start` works on a fresh machine and tokens survive restarts.
 * Production never gets here without them: loadConfig refuses to start.
 */
export function ensureDevelopmentSecrets(config: AppConfig, log: (line: string) => void): AppConfig {
  // Production needs OAUTH_STATE_SECRET only with Google sign-in, and loadConfig already demands it then.
  const stateSecretMissing = !config.oauth.stateSecret && config.env !== 'production';
  if (config.jwt.privateKeyPem && config.mfa.encryptionKey && config.oidc.cookieSecret && !stateSecretMissing) return config;
  if (config.env === 'production') throw new Error('production secrets must be configured');
  const dir = resolve(config.dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!config.jwt.privateKeyPem) {
    const file = join(dir, 'jwt-private-key.pem');
    const key = readOrCreate(file, generateSigningKeyPem);
    config.jwt.privateKeyPem = key.value;
    log(`${key.created ? 'Generated' : 'Using'} development JWT signing key at ${file}`);
  }
  if (!config.mfa.encryptionKey) {
    const file = join(dir, 'mfa-encryption.key');
    const key = readOrCreate(file, () => randomBytes(32).toString('base64'));
    config.mfa.encryptionKey = Buffer.from(key.value.trim(), 'base64');
    log(`${key.created ? 'Generated' : 'Using'} development MFA encryption key at ${file}`);
  }
  if (!config.oauth.stateSecret) {
    const file = join(dir, 'oauth-state.key');
    const key = readOrCreate(file, () => randomBytes(32).toString('base64'));
    config.oauth.stateSecret = Buffer.from(key.value.trim(), 'base64');
    log(`${key.created ? 'Generated' : 'Using'} development OAuth state secret at ${file}`);
  }
  if (!config.oidc.cookieSecret) {
    const file = join(dir, 'oidc-cookie.key');
    const key = readOrCreate(file, () => randomBytes(32).toString('base64url'));
    config.oidc.cookieSecret = key.value.trim();
    log(`${key.created ? 'Generated' : 'Using'} development OIDC cookie key at ${file}`);
  }
  return config;
}
