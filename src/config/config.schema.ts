import { z } from 'zod';

/**
 * The one description of Bastion's environment. Every variable of API.md "Configuration" is read
 * here and nowhere else; `loadConfig` turns the raw environment into the typed `Config`.
 */

const seconds = (fallback: number, max = 10 * 365 * 24 * 3600) =>
  z.coerce.number().int('must be a whole number of seconds').min(1).max(max).default(fallback);
const count = (fallback: number, min: number, max: number) =>
  z.coerce.number().int('must be a whole number').min(min).max(max).default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
const optional = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
const httpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });
const list = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
const base64Key = z
  .string()
  .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded');
const pemBlocks = (label: string) =>
  z
    .string()
    .default('')
    .transform((v) => v.match(new RegExp(`-----BEGIN ${label}-----[\\s\\S]+?-----END ${label}-----`, 'g')) ?? []);

export const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: count(3000, 0, 65535),
  // Default http://localhost:${PORT}, resolved in loadConfig once PORT is known.
  APP_URL: optional(httpUrl),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().min(1).default('.data'),
  DATABASE_URL: optional(z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')),
  MIGRATE_ON_START: bool(true),
  DATABASE_POOL_MAX: count(10, 1, 200),
  REDIS_URL: optional(z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL')),
  REDIS_KEY_PREFIX: z.string().max(64).default('bastion:'),
  SMTP_URL: optional(z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')),
  MAIL_FROM: z.string().min(3).default('Bastion <no-reply@localhost>'),
  JWT_PRIVATE_KEY: optional(z.string().includes('PRIVATE KEY', { message: 'must be a PEM private key' })),
  JWT_PREVIOUS_PUBLIC_KEYS: pemBlocks('PUBLIC KEY'),
  JWT_ISSUER: optional(httpUrl),
  JWT_AUDIENCE: z.string().min(1).default('bastion'),
  ACCESS_TOKEN_TTL: seconds(900, 24 * 3600),
  REFRESH_TOKEN_TTL: seconds(30 * 24 * 3600),
  SESSION_IDLE_TTL: seconds(7 * 24 * 3600),
  MFA_ENCRYPTION_KEY: optional(base64Key),
  MFA_PREVIOUS_ENCRYPTION_KEYS: list.pipe(z.array(base64Key)),
  MFA_ISSUER: z.string().min(1).max(64).default('Bastion'),
  METRICS_TOKEN: optional(z.string().min(16, 'must be at least 16 characters')),
  HIBP_ENABLED: bool(false),
  HIBP_RANGE_URL: httpUrl.default('https://api.pwnedpasswords.com/range/'),
  AUTH_REGISTRATION: z.enum(['open', 'closed']).default('open'),
  EMAIL_VERIFICATION_REQUIRED: bool(true),
  PASSWORD_MIN_LENGTH: count(12, 8, 64),
  ARGON2_MEMORY_KIB: count(19456, 8192, 1048576),
  ARGON2_ITERATIONS: count(2, 1, 20),
  ARGON2_PARALLELISM: count(1, 1, 16),
  // Validated only: libuv reads it (config/thread-pool.ts sets it to the cores when unset).
  UV_THREADPOOL_SIZE: optional(count(4, 1, 1024)),
  LOCKOUT_THRESHOLD: count(5, 1, 1000),
  LOCKOUT_DURATION: seconds(900),
  LOCKOUT_MAX_DURATION: seconds(3600),
  THROTTLE_TTL: seconds(60, 24 * 3600),
  THROTTLE_LIMIT: count(600, 1, 1_000_000),
  THROTTLE_AUTH_LIMIT: count(10, 1, 1_000_000),
  BOOTSTRAP_ADMIN_EMAIL: optional(z.email({ message: 'must be an email address' })),
  BOOTSTRAP_ADMIN_PASSWORD: optional(z.string().min(1)),
  GOOGLE_CLIENT_ID: optional(z.string()),
  GOOGLE_CLIENT_SECRET: optional(z.string()),
  GOOGLE_CALLBACK_URL: optional(httpUrl),
  GOOGLE_ALLOWED_DOMAINS: list,
  GOOGLE_AUTHORIZATION_URL: httpUrl.default('https://accounts.google.com/o/oauth2/v2/auth'),
  GOOGLE_TOKEN_URL: httpUrl.default('https://oauth2.googleapis.com/token'),
  GOOGLE_USERINFO_URL: httpUrl
    .refine((v) => v.endsWith('/userinfo'), 'must end in /userinfo')
    .default('https://openidconnect.googleapis.com/v1/userinfo'),
  OAUTH_SUCCESS_REDIRECT: optional(httpUrl),
  OAUTH_FAILURE_REDIRECT: optional(httpUrl),
  OAUTH_STATE_SECRET: optional(base64Key),
  WEBAUTHN_RP_ID: optional(z.string().regex(/^[a-z0-9.-]+$/i, 'must be a host name (no scheme, port or path)')),
  WEBAUTHN_RP_NAME: z.string().min(1).default('Bastion'),
  WEBAUTHN_ORIGINS: list.pipe(z.array(z.url({ message: 'must be a list of origins' }))),
  CORS_ORIGINS: list.pipe(z.array(z.url({ message: 'must be a list of origins' }))),
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v): boolean | string | number => {
      if (v === 'true' || v === 'false') return v === 'true';
      return /^\d+$/.test(v) ? Number(v) : v;
    }),
  SHUTDOWN_TIMEOUT: seconds(10, 300),
  // Slow clients (slowloris): the request head, then the whole request, must arrive within these.
  HTTP_HEADERS_TIMEOUT: seconds(10, 600),
  HTTP_REQUEST_TIMEOUT: seconds(30, 3600),
  RETURN_TO_ORIGINS: list.pipe(z.array(z.url({ protocol: /^https?$/, message: 'must be a list of http(s) origins' }))),
  BRAND_NAME: z.string().trim().min(1).max(64).default('Bastion'),
  BRAND_LOGO_URL: optional(
    z.union([z.string().regex(/^\/assets\/[A-Za-z0-9._/-]+$/, 'must be a path under /assets/ or an http(s) URL'), httpUrl]),
  ),
  BRAND_PRIMARY_COLOR: z
    .string()
    .regex(/^#(?:[0-9a-fA-F]{3}){1,2}$/, 'must be a hex colour such as #0b5fff')
    .default('#0b5fff'),
  OIDC_COOKIE_SECRET: optional(z.string().min(32, 'must be at least 32 characters')),
  OIDC_BACKCHANNEL_ALLOWED_HOSTS: list.transform((hosts) => hosts.map((h) => h.toLowerCase())),
});

export type Environment = z.output<typeof environmentSchema>;
