import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';

export const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');
export const STRONG_PASSWORD = 'correct horse battery staple';
export const ADMIN_EMAIL = 'cluster.admin@example.com';

export const adminUrl = (): string => process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withClient<T>(connectionString: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface ClusterDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty `bastion_cluster_<ms>` database (the first instance migrates it on start). */
export async function createDatabase(): Promise<ClusterDatabase> {
  const name = `bastion_cluster_${Date.now()}`;
  await withClient(databaseUrl('postgres'), async (c) => {
    const stale = await c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname ~ '^bastion_cluster_[0-9]+$'`);
    for (const { datname } of stale.rows) {
      if (Date.now() - Number(datname.split('_')[2]) > 3 * 3600_000) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
    await c.query(`CREATE DATABASE "${name}"`);
  });
  return {
    name,
    url: databaseUrl(name),
    drop: () => withClient(databaseUrl('postgres'), (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Secrets shared by every instance of one cluster. */
export function clusterSecrets(): Record<string, string> {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { JWT_PRIVATE_KEY: privateKey, MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64'), OIDC_COOKIE_SECRET: randomBytes(32).toString('base64url'), OAUTH_STATE_SECRET: randomBytes(32).toString('base64') };
}

export interface Instance {
  name: string;
  baseUrl: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines of its output (for failure messages). */
  tail(): string[];
  /** Number of error/fatal log lines (pino level ≥ 50) seen so far. */
  errorLines(): string[];
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node dist/src/main.js` (NODE_ENV=production) and waits until /health/ready answers 200. */
export async function startInstance(name: string, env: Record<string, string | undefined>): Promise<Instance> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const fullEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    PORT: String(port),
    APP_URL: baseUrl,
    LOG_LEVEL: 'warn',
    ARGON2_MEMORY_KIB: '8192',
    ARGON2_ITERATIONS: '1',
    BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
    BOOTSTRAP_ADMIN_PASSWORD: STRONG_PASSWORD,
    ...env,
  })) {
    if (v !== undefined) fullEnv[k] = v;
  }
  const child = spawn(process.execPath, ['-r', join(ROOT, 'test', 'bench', 'lib', 'exit-with-parent.js'), MAIN], {
    cwd: ROOT,
    env: fullEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const errors: string[] = [];
  const onOutput = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      tail.push(line);
      if (tail.length > 60) tail.shift();
      if (/"level":\s*(50|60)\b/.test(line)) errors.push(line);
    }
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    }),
  );

  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exit) throw new Error(`${name} exited during start-up (${JSON.stringify(exit)}):\n${tail.join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} was not ready within 90 s:\n${tail.join('\n')}`);
    }
    const ok = await fetch(`${baseUrl}/health/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    await sleep(200);
  }

  let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  return {
    name,
    baseUrl,
    child,
    exited,
    tail: () => tail.slice(),
    errorLines: () => errors.slice(),
    stop() {
      stopping ??= (async () => {
        if (!exit) {
          child.kill('SIGTERM');
          // SIGKILL after 5 s (a timer that is cleared, so that Jest is not kept waiting).
          let timer: NodeJS.Timeout | undefined;
          const timedOut = await Promise.race([exited.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 5000)))]);
          clearTimeout(timer);
          if (timedOut) child.kill('SIGKILL');
        }
        return exited;
      })();
      return stopping;
    },
  };
}

/** A throw-away redis-server on a free port, as a child process. */
export async function startRedisServer(): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) break;
    if (Date.now() > deadline) throw new Error('redis-server did not start');
    await sleep(100);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface Reply {
  status: number;
  contentType: string;
  headers: Headers;
  body: unknown;
  text: string;
}

let ipCounter = 0;
/** A distinct client address per caller (instances run with TRUST_PROXY=true): rate limits are per IP. */
export function clientIp(): string {
  ipCounter += 1;
  return `10.${(process.pid >> 8) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

/** One HTTP call through real fetch (redirects are answers, not followed). */
export async function call(
  base: string | Instance,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; ip?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const url = `${typeof base === 'string' ? base : base.baseUrl}${path}`;
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.ip) headers['x-forwarded-for'] = options.ip;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, redirect: 'manual', body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', headers: res.headers, body, text };
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

export async function loginTokens(instance: Instance, email: string, password: string, ip = clientIp()): Promise<Tokens> {
  const res = await call(instance, 'POST', '/api/v1/auth/login', { body: { email, password }, ip });
  if (res.status !== 200) throw new Error(`login on ${instance.name} failed: ${res.status} ${res.text}`);
  return res.body as Tokens;
}

/** Polls `probe` every 50 ms until it returns true; resolves with the elapsed milliseconds (or throws after `limitMs`). */
export async function pollUntil(probe: () => Promise<boolean>, limitMs: number, what: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - started;
    if (Date.now() - started > limitMs) throw new Error(`${what}: not within ${limitMs} ms`);
    await sleep(50);
  }
}

let userCounter = 0;
export function uniqueEmail(prefix: string): string {
  userCounter += 1;
  return `${prefix}.${Date.now().toString(36)}.${userCounter}@example.com`;
}

/** A user provisioned by the admin through the API; returns its id. */
export async function createUser(instance: Instance, adminToken: string, email: string, roles: string[]): Promise<string> {
  const res = await call(instance, 'POST', '/api/v1/users', {
    token: adminToken,
    body: { email, displayName: 'Cluster User', roles, password: STRONG_PASSWORD },
  });
  if (res.status !== 201) throw new Error(`create user failed: ${res.status} ${res.text}`);
  return (res.body as { id: string }).id;
}

/**
 * One request on its own connection (`Connection: close`, no keep-alive agent), so that the request
 * is on the wire, and cannot be queued behind a reused connection, when the server starts closing.
 * Resolves with the status, or with `ERR <code>` when the connection is refused or reset.
 */
export function oneShot(instance: Instance, method: string, path: string, options: { body?: unknown; ip?: string } = {}): Promise<string> {
  return new Promise((resolve) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string | number> = {};
    if (options.ip) headers['x-forwarded-for'] = options.ip;
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    const req = http.request(`${instance.baseUrl}${path}`, { method, agent: false, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.statusCode)));
      res.on('error', (err: NodeJS.ErrnoException) => resolve(`ERR ${err.code ?? err.message}`));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`ERR ${err.code ?? err.message}`));
    req.end(body);
  });
}
