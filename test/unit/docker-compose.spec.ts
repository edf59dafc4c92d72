import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/app-config';
import { environmentSchema } from '../../src/config/config.schema';

/**
 * The container deployment (Dockerfile, docker-compose.yml, .env.example) is checked against the
 * app's own configuration schema, so none of them can drift from what the app reads.
 */

const root = join(__dirname, '..', '..');
const readRootFile = (name: string): string => readFileSync(join(root, name), 'utf8');
const schemaKeys = Object.keys(environmentSchema.shape).sort();

type Scalar = string | number | boolean | null;
interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  ports?: Array<string | number | { target?: number | string; published?: number | string }>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  environment?: Record<string, Scalar> | string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  volumes?: Array<string | { type?: string; source?: string; target?: string }>;
  command?: string | string[];
  restart?: string;
}
interface ComposeFile {
  services?: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const compose = parse(readRootFile('docker-compose.yml')) as ComposeFile;
const services = compose.services ?? {};

function service(name: string): ComposeService {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no "${name}" service`);
  return found;
}

/** A service's environment as written (before interpolation), in either compose syntax. */
function environmentOf(name: string): Record<string, string> {
  const env = service(name).environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const i = entry.indexOf('=');
        return i === -1 ? [entry, ''] : [entry.slice(0, i), entry.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

class MissingVariable extends Error {}

/** Compose's variable interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}. */
function interpolate(value: string, host: Record<string, string | undefined>): string {
  const pattern = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;
  return value.replace(pattern, (match, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (match === '$$') return '$';
    const name = (braced ?? bare) as string;
    const current = host[name];
    if (!op) return current ?? '';
    const missing = current === undefined || (op.startsWith(':') && current === '');
    if (op.endsWith('-')) return missing ? (arg ?? '') : (current as string);
    if (missing) throw new MissingVariable(`${name}: ${arg ?? 'required'}`);
    return current as string;
  });
}

function interpolatedAppEnvironment(host: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(environmentOf('app')).map(([k, v]) => [k, interpolate(v, host)]));
}

function healthcheckCommand(name: string): string {
  const test = service(name).healthcheck?.test;
  expect(test).toBeDefined();
  return Array.isArray(test) ? test.join(' ') : String(test);
}

const hostSecrets = () => ({
  JWT_PRIVATE_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
  MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  OIDC_COOKIE_SECRET: randomBytes(32).toString('base64'),
});

describe('docker-compose.yml', () => {
  it('defines the app, postgres and redis services', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['app', 'postgres', 'redis']));
  });

  it('builds the app from the Dockerfile at the repository root and publishes port 3000', () => {
    const build = service('app').build;
    const context = typeof build === 'string' ? build : build?.context;
    const dockerfile = (typeof build === 'object' && build.dockerfile) || 'Dockerfile';
    expect(context).toBe('.');
    expect(existsSync(join(root, context as string, dockerfile))).toBe(true);

    const published = (service('app').ports ?? []).map((p) =>
      typeof p === 'object' ? `${p.published}:${p.target}` : String(p).replace(/\/tcp$/, ''),
    );
    expect(published).toContain('3000:3000');
  });

  it('starts the app only once postgres and redis report healthy', () => {
    const dependsOn = service('app').depends_on;
    expect(dependsOn).toBeDefined();
    expect(Array.isArray(dependsOn)).toBe(false);
    expect(dependsOn).toMatchObject({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    expect(service('app').restart).toBe('unless-stopped');
  });

  it('runs postgres:17 with a pg_isready healthcheck and its data on a named volume', () => {
    const postgres = service('postgres');
    expect(postgres.image).toBe('postgres:17');
    expect(postgres.healthcheck?.disable).not.toBe(true);
    expect(healthcheckCommand('postgres')).toMatch(/pg_isready\b.*-U bastion\b.*-d bastion\b/);

    const dataVolume = (postgres.volumes ?? [])
      .map((v) => (typeof v === 'string' ? { source: v.split(':')[0], target: v.split(':')[1] } : v))
      .find((v) => v.target === '/var/lib/postgresql/data');
    expect(dataVolume?.source).toBe('postgres-data');
    expect(Object.keys(compose.volumes ?? {})).toContain('postgres-data');
  });

  it('runs redis:7 with a redis-cli ping healthcheck', () => {
    const redis = service('redis');
    expect(redis.image).toBe('redis:7');
    expect(redis.healthcheck?.disable).not.toBe(true);
    expect(healthcheckCommand('redis')).toMatch(/redis-cli\b.*\bping\b/);
  });

  it('passes the app only variables that the configuration schema reads', () => {
    const unknown = Object.keys(environmentOf('app')).filter((k) => !schemaKeys.includes(k));
    expect(unknown).toEqual([]);
  });

  it('points DATABASE_URL at the postgres service with its credentials and REDIS_URL at the redis service', () => {
    const env = environmentOf('app');
    const pg = environmentOf('postgres');

    const database = new URL(env.DATABASE_URL);
    expect(database.protocol).toMatch(/^postgres(ql)?:$/);
    expect(database.hostname).toBe('postgres');
    expect(database.port || '5432').toBe('5432');
    expect(decodeURIComponent(database.username)).toBe(pg.POSTGRES_USER);
    expect(decodeURIComponent(database.password)).toBe(pg.POSTGRES_PASSWORD);
    expect(database.pathname).toBe(`/${pg.POSTGRES_DB}`);

    const redis = new URL(env.REDIS_URL);
    expect(redis.protocol).toBe('redis:');
    expect(redis.hostname).toBe('redis');
    expect(redis.port || '6379').toBe('6379');
  });

  it('runs the app in production with every production-required secret provided', () => {
    const env = environmentOf('app');
    expect(env.NODE_ENV).toBe('production');
    for (const name of ['JWT_PRIVATE_KEY', 'MFA_ENCRYPTION_KEY', 'OIDC_COOKIE_SECRET', 'DATABASE_URL']) {
      expect(env[name]).toEqual(expect.stringMatching(/\S/));
    }
    // The signing and encryption keys come from the host and are never committed in the file.
    expect(env.JWT_PRIVATE_KEY).toMatch(/^\$\{JWT_PRIVATE_KEY:\?[^}]+\}$/);
    expect(env.MFA_ENCRYPTION_KEY).toMatch(/^\$\{MFA_ENCRYPTION_KEY:\?[^}]+\}$/);
    expect(env.OIDC_COOKIE_SECRET).toMatch(/^\$\{OIDC_COOKIE_SECRET:\?[^}]+\}$/);
  });

  it('refuses to start when the host does not set JWT_PRIVATE_KEY, MFA_ENCRYPTION_KEY or OIDC_COOKIE_SECRET', () => {
    const secrets = hostSecrets();
    expect(() => interpolatedAppEnvironment({})).toThrow(MissingVariable);
    expect(() => interpolatedAppEnvironment({ JWT_PRIVATE_KEY: secrets.JWT_PRIVATE_KEY })).toThrow(/MFA_ENCRYPTION_KEY/);
    expect(() => interpolatedAppEnvironment({ ...secrets, OIDC_COOKIE_SECRET: '' })).toThrow(/OIDC_COOKIE_SECRET/);
    expect(() => interpolatedAppEnvironment({ MFA_ENCRYPTION_KEY: secrets.MFA_ENCRYPTION_KEY, JWT_PRIVATE_KEY: '' })).toThrow(
      /JWT_PRIVATE_KEY/,
    );
  });

  it('yields a configuration the app accepts when the host sets only the required secrets', () => {
    const config = loadConfig(interpolatedAppEnvironment(hostSecrets()));
    expect(config.env).toBe('production');
    expect(config.port).toBe(3000);
    expect(config.database.url).toBe('postgres://bastion:bastion@postgres:5432/bastion');
    expect(config.redis.url).toBe('redis://redis:6379');
    expect(config.jwt.privateKeyPem).toContain('PRIVATE KEY');
    expect(config.mfa.encryptionKey?.length).toBe(32);
    expect(config.oidc.cookieSecret).toBeDefined();
  });
});

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions with comments dropped and continuation lines joined. */
function dockerfileInstructions(text: string): Instruction[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\r?\n/g, ' ');
  return logical
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [, keyword, args] = /^(\S+)\s*(.*)$/.exec(line) as RegExpExecArray;
      return { keyword: keyword.toUpperCase(), args: args.trim() };
    });
}

describe('Dockerfile', () => {
  const instructions = dockerfileInstructions(readRootFile('Dockerfile'));
  const lastFrom = instructions.map((i) => i.keyword).lastIndexOf('FROM');
  const finalStage = instructions.slice(lastFrom);

  it('is a multi-stage build on node 20', () => {
    const froms = instructions.filter((i) => i.keyword === 'FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from.args).toMatch(/^node:22-bookworm-slim\b/);
  });

  it('runs the final stage as the non-root node user', () => {
    const users = finalStage.filter((i) => i.keyword === 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1].args).toBe('node');
  });

  it('starts dist/src/main.js, the entry point nest build emits', () => {
    const cmd = finalStage.filter((i) => i.keyword === 'CMD').pop();
    expect(cmd).toBeDefined();
    expect(JSON.parse((cmd as Instruction).args)).toEqual(['node', 'dist/src/main.js']);

    const nestCli = JSON.parse(readRootFile('nest-cli.json')) as { entryFile?: string };
    expect(`dist/${nestCli.entryFile}.js`).toBe('dist/src/main.js');
  });

  it('caps the V8 heap as npm run start:prod does (one heap setting for every way of running it)', () => {
    const scripts = (JSON.parse(readRootFile('package.json')) as { scripts: Record<string, string> }).scripts;
    const flag = /^node (--max-old-space-size=\d+) dist\/src\/main\.js$/.exec(scripts['start:prod'])?.[1];
    expect(flag).toBeDefined();
    expect(scripts.start).toBe(`npm run build && node ${flag} dist/src/main.js`);
    const env = finalStage.filter((i) => i.keyword === 'ENV').map((i) => i.args);
    expect(env).toContain(`NODE_OPTIONS=${flag}`);
  });

  it('ships the build output, exposes port 3000 and probes /health/live', () => {
    const copies = finalStage.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies).toEqual(expect.arrayContaining([expect.stringMatching(/--from=build\b.*\bdist\b/)]));
    expect(copies).toEqual(expect.arrayContaining([expect.stringMatching(/--from=build\b.*\bnode_modules\b/)]));
    expect(finalStage).toContainEqual({ keyword: 'EXPOSE', args: '3000' });
    expect(finalStage).toContainEqual({ keyword: 'ENV', args: 'NODE_ENV=production' });
    const healthcheck = finalStage.find((i) => i.keyword === 'HEALTHCHECK');
    expect(healthcheck?.args).toMatch(/127\.0\.0\.1:.*\/health\/live/);
  });

  it('keeps dependencies, build output, local data and secrets out of the build context', () => {
    const ignored = readRootFile('.dockerignore')
      .split('\n')
      .map((line) => line.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.data', '.git', '.env']));
  });
});

describe('.env.example', () => {
  const text = readRootFile('.env.example');
  const assignments = text
    .split('\n')
    .map((line) => /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map(([, commented, name, value]) => ({ commented: Boolean(commented), name, value }));

  it('documents exactly the variables the configuration schema reads', () => {
    const documented = [...new Set(assignments.map((a) => a.name))].sort();
    expect(documented).toEqual(schemaKeys);
  });

  it('holds no secret values', () => {
    const secrets = ['JWT_PRIVATE_KEY', 'MFA_ENCRYPTION_KEY', 'MFA_PREVIOUS_ENCRYPTION_KEYS', 'OIDC_COOKIE_SECRET', 'GOOGLE_CLIENT_SECRET', 'BOOTSTRAP_ADMIN_PASSWORD', 'METRICS_TOKEN'];
    const active = assignments.filter((a) => secrets.includes(a.name) && !a.commented && a.value !== '');
    expect(active).toEqual([]);
    expect(text).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----\s*(\\n)?[A-Za-z0-9+/]{40}/);
    const keyLike = assignments.filter((a) => a.name.includes('KEY') && Buffer.from(a.value, 'base64').length === 32);
    expect(keyLike).toEqual([]);
    expect(text).toContain('npm run keys:generate');
    expect(text).toContain('openssl rand -base64 32');
  });
});
