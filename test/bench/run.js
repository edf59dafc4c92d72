'use strict';
// npm run bench: load benchmarks of the production build, run with its defaults. Every figure is a
// ratio to something measured in the same run (a bare NestJS + Fastify app in alternating rounds,
// the Argon2 bound), so that runs on different machines and days compare. See test/bench/README.md.
const os = require('node:os');
const { join } = require('node:path');
const { setTimeout } = require('node:timers');
const { setTimeout: sleep } = require('node:timers/promises');
const { loginRequests, refreshRequests } = require('./lib/auth-requests');
const { ROOT, createDatabase, reachableRedis, startBareApp, startServer } = require('./lib/environment');
const { enumerationTiming } = require('./lib/enumeration-timing');
const { argon2Bound, authorizationCost, documentView, naiveList } = require('./lib/in-process');
const { measure, probe, stopAll } = require('./lib/load');
const { judge, markdownTable, textTable, write } = require('./lib/report');
const { alternate, summarizeRounds } = require('./lib/rounds');
const { ADMIN, cookieSession, login: signIn, preflight, seed } = require('./lib/seed');
const { errors5xx, eventLoopLag, scrape } = require('./lib/server-metrics');
const { judgeSoak, soak, stopSoak } = require('./lib/soak');
const { authorizationCodeRoundTrips, clientCredentialsRequest, setupOidc } = require('./lib/oidc-requests');

const SECONDS = Number(process.env.BENCH_SECONDS || 8);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS || 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
// The load soak of issue 7 (two instances, mixed load) runs last; 0 leaves it out.
const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 120);
const CONNECTIONS = {
  cheap: 50,
  // A latency target is meaningless at saturation (p95 would be queueing only): the lists run
  // with a few concurrent callers per core, and the table says how many.
  list: 4,
  // Argon2 dominates a login; a few connections per core keep the hashing threads busy.
  login: 8,
  // Each token request verifies the client's Argon2id secret hash: hashing-bound like a login.
  oidc: 8,
  storm: 16,
};
const RESULTS_DIR = join(ROOT, 'bench-results');
const TIME_LIMIT_MS = 15 * 60_000 + (SOAK_SECONDS > 0 ? SOAK_SECONDS * 1000 + 2 * 60_000 : 0);

const log = (line) => process.stderr.write(`[bench] ${line}\n`);
const cleanups = [];
let cleaning;
let aborting = false;

function cleanUp() {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const [name, fn] = cleanups.pop();
      try {
        await fn();
      } catch (err) {
        log(`cleanup of ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  })();
  return cleaning;
}

function abort(code, reason) {
  if (aborting) return;
  aborting = true;
  log(reason);
  stopAll();
  stopSoak();
  cleanUp().finally(() => process.exit(code));
}

const json = { 'content-type': 'application/json' };
const bearer = (token) => ({ authorization: `Bearer ${token}` });
const principal = (user, role) => ({ userId: user.id, sessionId: 'bench', departmentId: user.departmentId, roles: [role], amr: ['pwd'] });

async function main() {
  const startedAt = new Date().toISOString();
  const loadBefore = os.loadavg();
  const database = await createDatabase();
  const keep = Boolean(process.env.BENCH_KEEP_DATABASE);
  if (!keep) cleanups.push(['database', () => database.drop()]);
  log(`database ${database.name}${keep ? ' (kept: BENCH_KEEP_DATABASE is set)' : ''}`);
  const redisUrl = await reachableRedis();
  const cpuProfileDir = process.env.BENCH_CPU_PROF ? join(RESULTS_DIR, 'profiles') : undefined;
  const server = await startServer({ databaseUrl: database.url, redisUrl, admin: ADMIN, logFile: join(RESULTS_DIR, 'server.log'), cpuProfileDir });
  cleanups.push(['server', () => server.stop()]);
  log(`server pid ${server.pid} ready at ${server.baseUrl} (Redis: ${redisUrl ? 'yes' : 'no'})`);
  const bare = await startBareApp({ logFile: join(RESULTS_DIR, 'bare-app.log') });
  cleanups.push(['bare app', () => bare.stop()]);
  log(`bare NestJS + Fastify app pid ${bare.pid} ready at ${bare.baseUrl}`);

  const data = await seed(server.baseUrl, database.url);
  log(`seeded ${data.documents} documents in ${data.seedSeconds.toFixed(1)} s`);
  await preflight(server.baseUrl, data);
  const { baseUrl } = server;
  const scenarios = {};
  const once = async (label, options) => ({
    label,
    ...(await measure({ baseUrl, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, target: server, ...options })),
    rssKiB: server.memory().rssKiB,
  });
  const run = async (key, label, options) => {
    log(`${label}: ${WARMUP_SECONDS} s warm-up + ${SECONDS} s`);
    scenarios[key] = await once(label, options);
    return scenarios[key];
  };
  const bareRun = () => once('bare NestJS + Fastify GET /health/live', { baseUrl: bare.baseUrl, path: '/health/live', connections: CONNECTIONS.cheap, target: bare });
  const viewer = bearer(data.viewer.token);

  let nextId = 0;
  // The hosted pages: the sign-in form (a first visit: it sets the pre-session cookie) and a
  // signed-in account page (user, sessions, linked identities), rendered from cached templates.
  const browserCookie = await cookieSession(baseUrl, data.loginPool[2]);
  log(`${ROUNDS} alternating rounds of the bare app and the cheap routes, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s each`);
  const compared = summarizeRounds(
    await alternate(
      ROUNDS,
      [
        ['bare', bareRun],
        ['live', () => once('GET /health/live', { path: '/health/live', connections: CONNECTIONS.cheap })],
        ['whoami', () => once('GET /api/v1/auth/whoami', { path: '/api/v1/auth/whoami', connections: CONNECTIONS.cheap, headers: viewer })],
        ['usersMe', () => once('GET /api/v1/users/me', { path: '/api/v1/users/me', connections: CONNECTIONS.cheap, headers: viewer })],
        [
          'documentGet',
          () =>
            once('GET /api/v1/documents/:id', {
              path: '/api/v1/documents',
              connections: CONNECTIONS.cheap,
              headers: viewer,
              requests: [{ setupRequest: (req) => ({ ...req, path: `/api/v1/documents/${data.readableIds[nextId++ % data.readableIds.length]}` }) }],
            }),
        ],
        ['loginPage', () => once('GET /login (page)', { path: '/login', connections: CONNECTIONS.cheap })],
        ['accountPage', () => once('GET /account (page, signed in)', { path: '/account', connections: CONNECTIONS.cheap, headers: { cookie: browserCookie } })],
      ],
      log,
    ),
    'bare',
  );
  const listPath = '/api/v1/documents?limit=20';
  await run('listViewer', `GET ${listPath} (viewer)`, { path: listPath, connections: CONNECTIONS.list, headers: viewer });
  await run('listManager', `GET ${listPath} (manager)`, { path: listPath, connections: CONNECTIONS.list, headers: bearer(data.manager.token) });

  log('naive list, authorization cost and Argon2 bound (in this process, server idle)');
  const naiveListResult = await naiveList(database.url, { viewer: principal(data.viewer, 'viewer'), manager: principal(data.manager, 'manager') });
  const authorization = await authorizationCost(database.url, principal(data.viewer, 'viewer'), await documentView(database.url, data.readableIds[0]));
  const argon2 = await argon2Bound();

  const login = { path: '/api/v1/auth/login', method: 'POST', headers: json };
  const sessions = [];
  await run('login', 'POST /api/v1/auth/login', { ...login, connections: CONNECTIONS.login, requests: loginRequests(data.loginPool, data.password, sessions) });
  // Each run loses the tokens in flight when it stops (warm-up and measured run, every round: two
  // per connection and round); that many and one more per connection keep the queue from running dry.
  const wanted = (2 * ROUNDS + 2) * CONNECTIONS.cheap;
  while (sessions.length < wanted) {
    const batch = Array.from({ length: Math.min(4, wanted - sessions.length) }, (_, i) => signIn(baseUrl, data.loginPool[i]));
    sessions.push(...(await Promise.all(batch)).map((pair) => pair.refreshToken));
  }
  log(`${sessions.length} sessions for the refresh rounds`);
  const comparedRefresh = summarizeRounds(
    await alternate(
      ROUNDS,
      [
        ['bare', bareRun],
        ['refresh', () => once('POST /api/v1/auth/refresh', { path: '/api/v1/auth/refresh', method: 'POST', headers: json, connections: CONNECTIONS.cheap, requests: refreshRequests(sessions) })],
      ],
      log,
    ),
    'bare',
  );

  // Enumeration by timing: known and unknown addresses interleaved on one connection (the answer's
  // time, not throughput, is what must not differ).
  for (const [key, path] of [['forgotTiming', '/api/v1/auth/password/forgot'], ['resendTiming', '/api/v1/auth/resend-verification']]) {
    log(`${path}: known vs unknown addresses, interleaved, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s`);
    scenarios[key] = { label: `POST ${path} known vs unknown`, ...(await enumerationTiming({ baseUrl, path, known: data.loginPool, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS })) };
  }

  // OpenID Connect: service-to-service tokens, and the authorization-code round trip of a browser
  // already signed in to Bastion (4 requests: authorize, interaction, resume, token).
  const oidcSetup = await setupOidc(baseUrl, (await signIn(baseUrl, ADMIN.email)).accessToken, { email: data.loginPool[0], password: data.password });
  await run('clientCredentials', 'POST /oidc/token (client_credentials)', { ...clientCredentialsRequest(oidcSetup), connections: CONNECTIONS.oidc });
  log(`authorization code round trips: ${WARMUP_SECONDS} s warm-up + ${SECONDS} s`);
  const roundTrips = (seconds) => authorizationCodeRoundTrips({ baseUrl, setup: oidcSetup, seconds, connections: CONNECTIONS.oidc });
  await roundTrips(WARMUP_SECONDS);
  scenarios.authCodeRoundTrip = { label: 'authorization code round trip', ...(await roundTrips(SECONDS)), rssKiB: server.memory().rssKiB };

  log(`login storm (${CONNECTIONS.storm} connections, ${SECONDS} s) with /health/live probed every 20 ms`);
  await scrape(baseUrl); // resets the server's event-loop delay histogram
  const storm = measure({ ...login, baseUrl, connections: CONNECTIONS.storm, seconds: SECONDS, warmupSeconds: 0, requests: loginRequests(data.loginPool, data.password) });
  await sleep(1000);
  const liveness = await probe({ baseUrl, path: '/health/live', seconds: Math.max(1, SECONDS - 2) });
  scenarios.livenessDuringStorm = { label: 'GET /health/live during the storm', ...liveness, eventLoopLagMs: eventLoopLag(await scrape(baseUrl)) };
  scenarios.loginStorm = { label: 'POST /api/v1/auth/login (storm)', ...(await storm) };
  await bare.stop();

  const memory = server.memory();
  const serverErrors = errors5xx(await scrape(baseUrl));
  const errorLogLines = server.errorLines();

  // The soak: a second instance of the same deployment on the same database, then mixed load on both.
  let soakResult;
  let secondErrorLogLines = 0;
  let soakErrorLogLines = 0;
  if (SOAK_SECONDS > 0) {
    const second = await startServer({ databaseUrl: database.url, redisUrl, admin: ADMIN, logFile: join(RESULTS_DIR, 'server-2.log'), shared: server.shared });
    cleanups.push(['second server', () => second.stop()]);
    log(`second server pid ${second.pid} ready at ${second.baseUrl}`);
    soakResult = await soak({ servers: [server, second], data, databaseUrl: database.url, seconds: SOAK_SECONDS, log });
    soakErrorLogLines = server.errorLines() - errorLogLines;
    secondErrorLogLines = second.errorLines();
    const secondExit = await second.stop();
    soakResult.secondServerShutdown = { ...secondExit, errorLogLines: second.errorLines() - secondErrorLogLines };
    soakResult.errorLogLines = { A: soakErrorLogLines, B: secondErrorLogLines };
  }
  const beforeStop = server.errorLines();
  const exit = await server.stop();
  const shutdown = { ...exit, errorLogLines: server.errorLines() - beforeStop };

  const measured = { compared, comparedRefresh, scenarios, naiveList: naiveListResult, authorization, argon2, server: { peakRssMb: Math.round(memory.peakRssKiB / 1024), errors5xx: serverErrors, errorLogLines, shutdown } };
  const { checks, rows } = judge(measured);
  if (soakResult) {
    const judged = judgeSoak(soakResult);
    Object.assign(checks, judged.checks);
    rows.push(...judged.rows);
  }
  write(join(RESULTS_DIR, 'latest.json'), {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { cores: argon2.cores, cpu: os.cpus()[0]?.model, memoryMb: Math.round(os.totalmem() / 2 ** 20), node: process.version, loadavgBefore: loadBefore, loadavgAfter: os.loadavg() },
    settings: { seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, rounds: ROUNDS, soakSeconds: SOAK_SECONDS, connections: CONNECTIONS, redis: Boolean(redisUrl), documents: data.documents, departments: data.departmentIds.length, readable: data.readable },
    ...measured,
    soak: soakResult ?? null,
    checks,
  });

  const header = [
    `Bastion benchmark, ${startedAt}: ${argon2.cores} cores (${os.cpus()[0]?.model}), Node ${process.version}, load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
    `Argon2id ${argon2.params}: median ${argon2.hashMsMedian} ms per hash (${argon2.samples} samples) → bound ${argon2.boundPerSecond} logins/s (cores ÷ hash time); ${argon2.cores} hashes at once reach ${argon2.parallelPerSecond}/s (${argon2.parallelVsBound}× the bound)`,
    `${data.documents} documents in ${data.departmentIds.length} departments (viewer reads ${data.readable.viewer}, manager ${data.readable.manager}); Redis ${redisUrl ? 'on' : 'off'}; server defaults (LOG_LEVEL info); ${SECONDS} s per run after ${WARMUP_SECONDS} s warm-up, ${ROUNDS} alternating rounds against the bare app${SOAK_SECONDS > 0 ? `; soak ${SOAK_SECONDS} s on 2 instances` : ''}`,
  ];
  const notes = [];
  if (errorLogLines) notes.push(`The server logged ${errorLogLines} error lines under load: see bench-results/server.log`);
  if (soakErrorLogLines || secondErrorLogLines) notes.push(`During the soak the servers logged ${soakErrorLogLines} (A) and ${secondErrorLogLines} (B) error lines: see bench-results/server.log and server-2.log`);
  if (soakResult && (soakResult.secondServerShutdown.errorLogLines || soakResult.secondServerShutdown.code !== 0)) notes.push(`Shutdown of the second server: exit code ${soakResult.secondServerShutdown.code}, ${soakResult.secondServerShutdown.errorLogLines} error lines: see bench-results/server-2.log`);
  if (shutdown.errorLogLines || shutdown.code !== 0) notes.push(`Shutdown: exit code ${shutdown.code}, ${shutdown.errorLogLines} error lines: see bench-results/server.log`);
  if (cpuProfileDir) notes.push(`CPU profile of the server: ${cpuProfileDir}`);
  process.stdout.write(`\n${header.join('\n')}\n\n${textTable(rows)}\n\n${notes.map((n) => `${n}\n`).join('')}`);
  process.stdout.write(`\nMarkdown:\n\n${header.map((h) => `${h}  `).join('\n')}\n\n${markdownTable(rows)}\n\nFull results: bench-results/latest.json\n`);
}

process.on('SIGINT', () => abort(130, 'interrupted: stopping the load and the server, dropping the database'));
process.on('SIGTERM', () => abort(143, 'terminated: stopping the load and the server, dropping the database'));
process.on('uncaughtException', (err) => abort(1, `failed: ${err.stack}`));
process.on('unhandledRejection', (err) => abort(1, `failed: ${err instanceof Error ? err.stack : String(err)}`));
setTimeout(() => abort(1, `still running after ${TIME_LIMIT_MS / 60_000} minutes: aborting`), TIME_LIMIT_MS).unref();

main()
  .then(async () => {
    if (aborting) return;
    await cleanUp();
    process.exit(0);
  })
  .catch(async (err) => {
    // After an interrupt, what fails is the work the clean-up cut short; abort() exits.
    if (aborting) return;
    log(`failed: ${err instanceof Error ? err.stack : String(err)}`);
    stopAll();
    await cleanUp();
    process.exit(1);
  });
