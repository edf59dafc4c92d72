import { environmentSchema, type Environment } from './config.schema';

export type RuntimeEnvironment = 'development' | 'production' | 'test';

/** The typed, validated configuration. Injected everywhere as the `AppConfig` class token. */
export interface Config {
  env: RuntimeEnvironment;
  port: number;
  appUrl: string;
  logLevel: Environment['LOG_LEVEL'];
  dataDir: string;
  shutdownTimeoutSeconds: number;
  http: { headersTimeoutSeconds: number; requestTimeoutSeconds: number };
  database: { url?: string; migrateOnStart: boolean; poolMax: number };
  redis: { url?: string; keyPrefix: string };
  mail: { smtpUrl?: string; from: string };
  jwt: {
    privateKeyPem?: string;
    previousPublicKeysPem: string[];
    issuer: string;
    audience: string;
    accessTokenTtl: number;
  };
  sessions: { refreshTokenTtl: number; idleTtl: number };
  mfa: { encryptionKey?: Buffer; previousEncryptionKeys: Buffer[]; issuer: string };
  metrics: { token?: string };
  passwords: {
    minLength: number;
    hibpEnabled: boolean;
    hibpRangeUrl: string;
    argon2: { memoryCost: number; timeCost: number; parallelism: number };
  };
  registration: { open: boolean; emailVerificationRequired: boolean };
  lockout: { threshold: number; durationSeconds: number; maxDurationSeconds: number };
  throttle: { ttlSeconds: number; limit: number; authLimit: number };
  bootstrapAdmin?: { email: string; password: string };
  google?: {
    clientId: string;
    clientSecret: string;
    callbackUrl: string;
    allowedDomains: string[];
    authorizationUrl: string;
    tokenUrl: string;
    userInfoUrl: string;
  };
  /** `stateSecret`: the dedicated secret the OAuth state cookie's HMAC key is derived from (HKDF). */
  oauth: { successRedirect?: string; failureRedirect?: string; stateSecret?: Buffer };
  /** Passkeys: the relying party ID (a host name) and the exact origins a ceremony may come from. */
  webauthn: { rpId: string; rpName: string; origins: string[] };
  cors: { origins: string[] };
  trustProxy: boolean | string | number;
  pages: {
    /** Origins besides APP_URL's that `return_to` may lead to (after sign-in). */
    returnToOrigins: string[];
    brand: { name: string; logoUrl?: string; primaryColor: string };
  };
  /** Bastion as an OpenID Connect provider. */
  oidc: { cookieSecret?: string; backchannelAllowedHosts: string[] };
}

// Declaration merging gives the class every field of Config, so `AppConfig` is both the DI token
// and the type.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface AppConfig extends Config {}
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class AppConfig {
  constructor(values: Config) {
    Object.assign(this, values);
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Validates a raw environment (never printing a value: some are secrets) and maps it to Config.
 * Production refuses to run without the secrets that development may generate for itself.
 */
export function loadConfig(raw: Record<string, string | undefined>): AppConfig {
  const parsed = environmentSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${String(i.path[0] ?? 'environment')}: ${i.message}`);
    throw new ConfigError([...new Set(problems)]);
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.NODE_ENV === 'production') {
    for (const name of ['JWT_PRIVATE_KEY', 'MFA_ENCRYPTION_KEY', 'OIDC_COOKIE_SECRET', 'DATABASE_URL'] as const) {
      if (!e[name]) problems.push(`${name}: is required when NODE_ENV=production`);
    }
  }
  if ((e.BOOTSTRAP_ADMIN_EMAIL === undefined) !== (e.BOOTSTRAP_ADMIN_PASSWORD === undefined)) {
    problems.push('BOOTSTRAP_ADMIN_PASSWORD: BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD are set together');
  }
  const googleParts = [e.GOOGLE_CLIENT_ID, e.GOOGLE_CLIENT_SECRET, e.GOOGLE_CALLBACK_URL];
  if (googleParts.some(Boolean) && !googleParts.every(Boolean)) {
    problems.push('GOOGLE_CLIENT_ID: GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and GOOGLE_CALLBACK_URL are set together');
  }
  // The Google flow's state cookie needs a key of its own; without Google there is no cookie to sign.
  if (e.NODE_ENV === 'production' && e.GOOGLE_CLIENT_ID && !e.OAUTH_STATE_SECRET) {
    problems.push('OAUTH_STATE_SECRET: is required when NODE_ENV=production and Google sign-in is configured');
  }
  if (e.LOCKOUT_MAX_DURATION < e.LOCKOUT_DURATION) {
    problems.push('LOCKOUT_MAX_DURATION: must not be shorter than LOCKOUT_DURATION');
  }
  if (e.HTTP_HEADERS_TIMEOUT > e.HTTP_REQUEST_TIMEOUT) {
    problems.push('HTTP_HEADERS_TIMEOUT: must not be longer than HTTP_REQUEST_TIMEOUT');
  }
  const appUrl = (e.APP_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const webauthn = webauthnSettings(e.WEBAUTHN_RP_ID, e.WEBAUTHN_RP_NAME, e.WEBAUTHN_ORIGINS, appUrl);
  if (webauthn.origins.some((o) => !isRegistrableSuffix(webauthn.rpId, new URL(o).hostname))) {
    problems.push('WEBAUTHN_RP_ID: must be the host of every WEBAUTHN_ORIGINS origin, or a parent domain of it');
  }
  if (problems.length) throw new ConfigError(problems);

  return new AppConfig({
    env: e.NODE_ENV,
    port: e.PORT,
    appUrl,
    logLevel: e.LOG_LEVEL,
    dataDir: e.DATA_DIR,
    shutdownTimeoutSeconds: e.SHUTDOWN_TIMEOUT,
    http: { headersTimeoutSeconds: e.HTTP_HEADERS_TIMEOUT, requestTimeoutSeconds: e.HTTP_REQUEST_TIMEOUT },
    database: { url: e.DATABASE_URL, migrateOnStart: e.MIGRATE_ON_START, poolMax: e.DATABASE_POOL_MAX },
    redis: { url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX },
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM },
    jwt: {
      privateKeyPem: e.JWT_PRIVATE_KEY?.replace(/\\n/g, '\n'),
      previousPublicKeysPem: e.JWT_PREVIOUS_PUBLIC_KEYS,
      issuer: e.JWT_ISSUER ?? appUrl,
      audience: e.JWT_AUDIENCE,
      accessTokenTtl: e.ACCESS_TOKEN_TTL,
    },
    sessions: { refreshTokenTtl: e.REFRESH_TOKEN_TTL, idleTtl: e.SESSION_IDLE_TTL },
    mfa: {
      encryptionKey: e.MFA_ENCRYPTION_KEY ? Buffer.from(e.MFA_ENCRYPTION_KEY, 'base64') : undefined,
      previousEncryptionKeys: e.MFA_PREVIOUS_ENCRYPTION_KEYS.map((k) => Buffer.from(k, 'base64')),
      issuer: e.MFA_ISSUER,
    },
    metrics: { token: e.METRICS_TOKEN },
    passwords: {
      minLength: e.PASSWORD_MIN_LENGTH,
      hibpEnabled: e.HIBP_ENABLED,
      hibpRangeUrl: e.HIBP_RANGE_URL,
      argon2: { memoryCost: e.ARGON2_MEMORY_KIB, timeCost: e.ARGON2_ITERATIONS, parallelism: e.ARGON2_PARALLELISM },
    },
    registration: { open: e.AUTH_REGISTRATION === 'open', emailVerificationRequired: e.EMAIL_VERIFICATION_REQUIRED },
    lockout: {
      threshold: e.LOCKOUT_THRESHOLD,
      durationSeconds: e.LOCKOUT_DURATION,
      maxDurationSeconds: e.LOCKOUT_MAX_DURATION,
    },
    throttle: { ttlSeconds: e.THROTTLE_TTL, limit: e.THROTTLE_LIMIT, authLimit: e.THROTTLE_AUTH_LIMIT },
    bootstrapAdmin:
      e.BOOTSTRAP_ADMIN_EMAIL && e.BOOTSTRAP_ADMIN_PASSWORD
        ? { email: e.BOOTSTRAP_ADMIN_EMAIL, password: e.BOOTSTRAP_ADMIN_PASSWORD }
        : undefined,
    google:
      e.GOOGLE_CLIENT_ID && e.GOOGLE_CLIENT_SECRET && e.GOOGLE_CALLBACK_URL
        ? {
            clientId: e.GOOGLE_CLIENT_ID,
            clientSecret: e.GOOGLE_CLIENT_SECRET,
            callbackUrl: e.GOOGLE_CALLBACK_URL,
            allowedDomains: e.GOOGLE_ALLOWED_DOMAINS.map((d) => d.toLowerCase()),
            authorizationUrl: e.GOOGLE_AUTHORIZATION_URL,
            tokenUrl: e.GOOGLE_TOKEN_URL,
            userInfoUrl: e.GOOGLE_USERINFO_URL,
          }
        : undefined,
    oauth: {
      successRedirect: e.OAUTH_SUCCESS_REDIRECT,
      failureRedirect: e.OAUTH_FAILURE_REDIRECT,
      stateSecret: e.OAUTH_STATE_SECRET ? Buffer.from(e.OAUTH_STATE_SECRET, 'base64') : undefined,
    },
    webauthn,
    cors: { origins: e.CORS_ORIGINS.map((o) => new URL(o).origin) },
    trustProxy: e.TRUST_PROXY,
    pages: {
      returnToOrigins: e.RETURN_TO_ORIGINS.map((o) => new URL(o).origin),
      brand: { name: e.BRAND_NAME, logoUrl: e.BRAND_LOGO_URL, primaryColor: e.BRAND_PRIMARY_COLOR.toLowerCase() },
    },
    oidc: { cookieSecret: e.OIDC_COOKIE_SECRET, backchannelAllowedHosts: e.OIDC_BACKCHANNEL_ALLOWED_HOSTS },
  });
}

/** Passkey settings default to APP_URL: its host is the RP ID and its origin the one origin. */
function webauthnSettings(rpId: string | undefined, rpName: string, origins: string[], appUrl: string): Config['webauthn'] {
  const app = new URL(appUrl);
  return { rpId: (rpId ?? app.hostname).toLowerCase(), rpName, origins: origins.length ? origins.map((o) => new URL(o).origin) : [app.origin] };
}

/** WebAuthn lets an origin use its own host or a parent domain of it as RP ID, nothing else. */
function isRegistrableSuffix(rpId: string, host: string): boolean {
  return host === rpId || host.endsWith(`.${rpId}`);
}

/** The single place that reads process.env. */
export function loadConfigFromProcessEnv(): AppConfig {
  return loadConfig(process.env);
}
