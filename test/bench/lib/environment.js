'use strict';
// The system under test: a throw-away database on DATABASE_URL's server, the production build and
// the bare NestJS app it is compared with, each started as a child process (never in the load
// generator's process), with memory and CPU time sampled.
const { spawn, execFileSync } = require('node:child_process');
const { generateKeyPairSync, randomBytes } = require('node:crypto');
const { closeSync, existsSync, mkdirSync, openSync, readFileSync } = require('node:fs');
const net = require('node:net');
const { dirname, join } = require('node:path');
const { setInterval, clearInterval } = require('node:timers');
const { setTimeout: sleep } = require('node:timers/promises');
const { URL } = require('node:url');
const { Client } = require('pg');

const ROOT = join(__dirname, '..', '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');
const BARE_APP = join(__dirname, '..', 'bare-app.js');
// /proc/<pid>/stat counts CPU time in clock ticks: USER_HZ, 100 on Linux.
const CLOCK_TICKS = 100;
const STALE_AFTER_MS = 3 * 3600_000;

const adminUrl = () => process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

function databaseUrl(name) {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

async function withClient(connectionString, fn) {
  const client = new Client({ connectionString });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh `bastion_bench_<ms>` database; leftovers of killed runs older than 3 h are dropped. */
async function createDatabase() {
  const name = `bastion_bench_${Date.now()}`;
  await withClient(adminUrl(), async (c) => {
    const stale = await c.query(`SELECT datname FROM pg_database WHERE datname ~ '^bastion_bench_[0-9]+$'`);
    for (const { datname } of stale.rows) {
      if (Date.now() - Number(datname.split('_')[2]) > STALE_AFTER_MS) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
    await c.query(`CREATE DATABASE "${name}"`);
  });
  return { name, url: databaseUrl(name), drop: () => withClient(adminUrl(), (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)) };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** REDIS_URL, else the local default when something answers there; null runs without Redis. */
async function reachableRedis() {
  const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  if (url === 'none') return null;
  const { hostname, port } = new URL(url);
  const open = await new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379), timeout: 500 });
    const done = (answer) => {
      socket.destroy();
      resolve(answer);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
  return open ? url : null;
}

/** Production secrets made for this run only. */
function secrets() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  return { JWT_PRIVATE_KEY: privateKey, MFA_ENCRYPTION_KEY: randomBytes(32).toString('base64'), OIDC_COOKIE_SECRET: randomBytes(32).toString('base64url'), OAUTH_STATE_SECRET: randomBytes(32).toString('base64') };
}

function readStatus(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key) => Number((status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm')) || [])[1] || 0);
    return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
  } catch {
    try {
      const rssKiB = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim());
      return { rssKiB, hwmKiB: 0 };
    } catch {
      return { rssKiB: 0, hwmKiB: 0 };
    }
  }
}

/** The node flags of `npm run start:prod` (`node <flags> dist/src/main.js`). */
function productionNodeFlags() {
  const script = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts['start:prod'];
  const match = /^node ((?:--\S+ )*)dist\/src\/main\.js$/.exec(script);
  if (!match) throw new Error(`package.json start:prod is not "node [flags] dist/src/main.js": ${script}`);
  return match[1].split(' ').filter(Boolean);
}

/**
 * Starts `node dist/src/main.js` with NODE_ENV=production and its defaults (LOG_LEVEL info,
 * request logs, metrics, Redis when there is one), rate limits out of the way, and waits for
 * /health/ready. A second instance of the same deployment passes the first one's `shared` (signing
 * and MFA keys, Redis key prefix, APP_URL): the instances then accept each other's tokens and share
 * Redis state.
 */
async function startServer({ databaseUrl: dbUrl, redisUrl, admin, logFile, cpuProfileDir, shared }) {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" (npm run bench does)`);
  const port = await freePort();
  // APP_URL is also the tokens' issuer: the instances of one deployment share it (their public URL).
  const deployment = shared ?? { secrets: secrets(), redisKeyPrefix: `bastion-bench-${Date.now()}:`, appUrl: `http://127.0.0.1:${port}` };
  const env = {
    NODE_ENV: 'production',
    APP_URL: deployment.appUrl,
    DATABASE_URL: dbUrl,
    ...(redisUrl ? { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: deployment.redisKeyPrefix } : {}),
    THROTTLE_LIMIT: '1000000',
    THROTTLE_AUTH_LIMIT: '1000000',
    BOOTSTRAP_ADMIN_EMAIL: admin.email,
    BOOTSTRAP_ADMIN_PASSWORD: admin.password,
    ...deployment.secrets,
    // An experiment with the thread pool that hashes passwords (test/bench/README.md) reaches the server.
    ...(process.env.UV_THREADPOOL_SIZE ? { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE } : {}),
  };
  // Started as `npm run start:prod` starts it (its node flags: the heap cap), plus the bench's hooks.
  const nodeArgs = productionNodeFlags();
  if (cpuProfileDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`);
  const started = await launch({ script: MAIN, nodeArgs, env, port, readyPath: '/health/ready', logFile });
  return { ...started, shared: deployment };
}

/**
 * The yardstick: the bare NestJS + Fastify app of `test/bench/bare-app.js`, started the same way
 * (a child process under the same node flags), answering GET /health/live.
 */
async function startBareApp({ logFile }) {
  return launch({ script: BARE_APP, nodeArgs: productionNodeFlags(), env: { NODE_ENV: 'production' }, port: await freePort(), readyPath: '/health/live', logFile });
}

/** CPU time (user + system, all threads) the process has used so far, in seconds. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/**
 * Runs `node <nodeArgs> <script>` on `port` and waits until `readyPath` answers 200. Its output
 * goes straight to `logFile` (a file, as a log collector would take it: through a pipe read by
 * this busy load generator, the server would wait on the pipe); error-level lines (pino level ≥ 50)
 * are counted from it for the report.
 */
async function launch({ script, nodeArgs, env, port, readyPath, logFile }) {
  const childEnv = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), ...env };
  mkdirSync(dirname(logFile), { recursive: true });
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, ['-r', join(__dirname, 'exit-with-parent.js'), ...nodeArgs, script], { cwd: ROOT, env: childEnv, stdio: ['ignore', out, out] });
  closeSync(out);
  const lines = () => readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
  const tail = () => lines().slice(-40);
  const errorLines = () => lines().filter((line) => /"level":\s*(50|60)\b/.test(line)).length;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let exit = null;
  exited.then((e) => (exit = e));

  let stopping;
  let peakRssKiB = 0;
  const sampler = setInterval(() => (peakRssKiB = Math.max(peakRssKiB, readStatus(child.pid).rssKiB)), 250);
  sampler.unref();

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (exit) throw new Error(`${script} exited during start-up (${JSON.stringify(exit)}):\n${tail().join('\n')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${script} was not ready within 120 s:\n${tail().join('\n')}`);
    }
    const ok = await globalThis
      .fetch(`${baseUrl}${readyPath}`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    await sleep(250);
  }

  return {
    baseUrl,
    pid: child.pid,
    /** VmRSS now, in KiB (0 once the process is gone). */
    rssKiB: () => readStatus(child.pid).rssKiB,
    cpuSeconds: () => cpuSeconds(child.pid),
    errorLines,
    tail,
    memory: () => {
      const now = readStatus(child.pid);
      peakRssKiB = Math.max(peakRssKiB, now.rssKiB);
      return { rssKiB: now.rssKiB, peakRssKiB: Math.max(peakRssKiB, now.hwmKiB) };
    },
    /** SIGTERM (graceful: the CPU profile, if any, is written), SIGKILL after 15 s. Idempotent. */
    stop() {
      stopping ??= stop();
      return stopping;
    },
  };

  async function stop() {
    clearInterval(sampler);
    if (!exit) {
      child.kill('SIGTERM');
      const timedOut = await Promise.race([exited.then(() => false), sleep(15_000).then(() => true)]);
      if (timedOut) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    return exited;
  }
}

module.exports = { ROOT, createDatabase, reachableRedis, startBareApp, startServer, withClient };
