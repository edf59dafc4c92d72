'use strict';
// Issue 7 item 6, the load soak: a bounded mixed load (logins, refreshes, guarded reads, writes)
// across two instances of one deployment (same database, keys and Redis prefix), driven by a
// fixed number of workers that send their requests to the instances alternately. Afterwards:
// 5xx per instance (client side and each server's own /metrics), every acknowledged write against
// the database (no lost and no phantom rows, no lost or phantom updates), and each instance's RSS
// (VmRSS, sampled every second) at the end of the first half against the end of the second half.
const { Buffer } = require('node:buffer');
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const { setInterval, clearInterval } = require('node:timers');
const { withClient } = require('./environment');
const { summarize } = require('./load');
const { ADMIN } = require('./seed');
const { errors5xx, scrape } = require('./server-metrics');

const WORKERS = 16;
const REQUEST_TIMEOUT_MS = 10_000;
const GROWTH_LIMIT_PCT = 20;
// One turn of the mix: 20 requests. Logins are rare (each costs an Argon2 hash).
const MIX = [
  ...Array(1).fill('login'),
  ...Array(2).fill('refresh'),
  ...Array(4).fill('whoami'),
  ...Array(4).fill('documentGet'),
  ...Array(3).fill('list'),
  ...Array(4).fill('create'),
  ...Array(2).fill('update'),
];
const LABELS = {
  login: 'POST /auth/login',
  refresh: 'POST /auth/refresh',
  whoami: 'GET /auth/whoami',
  documentGet: 'GET /documents/:id',
  list: 'GET /documents?limit=20',
  create: 'POST /documents',
  update: 'PATCH /documents/:id',
};
// Spread MIX so that consecutive requests are of different kinds.
const ORDER = MIX.map((op, i) => ({ op, key: (i * 7) % MIX.length })).sort((a, b) => a.key - b.key).map((e) => e.op);

let stopRequested = false;
/** Ends the soak's workers after their current request (on SIGINT). */
function stopSoak() {
  stopRequested = true;
}

/** One HTTP request; never rejects: status 0 is a socket error or a time-out. */
function send(instance, method, path, { token, body } = {}) {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = {};
    if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    if (token) headers.authorization = `Bearer ${token}`;
    const started = performance.now();
    const fail = (err) => resolve({ status: 0, error: err.message, ms: performance.now() - started });
    const req = http.request(`${instance.baseUrl}${path}`, { method, headers, agent: instance.agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, json, ms: performance.now() - started });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', fail);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

async function expectOk(instance, method, path, options, what) {
  const r = await send(instance, method, path, options);
  if (r.status !== 200 && r.status !== 201) throw new Error(`soak set-up: ${what} (${method} ${path} on ${instance.name}) answered ${r.status || r.error}: ${JSON.stringify(r.json)?.slice(0, 300)}`);
  return r.json;
}

const mean = (values) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);

/**
 * Runs the soak against `servers` (two started instances) for `seconds`. `data` is what seed()
 * returned; `log` writes a progress line.
 */
async function soak({ servers, data, databaseUrl, seconds, log }) {
  stopRequested = false;
  const instances = servers.map((server, i) => ({
    name: String.fromCharCode(65 + i),
    server,
    baseUrl: server.baseUrl,
    agent: new http.Agent({ keepAlive: true, maxSockets: WORKERS }),
    metricsBefore: {},
  }));
  const [a, b] = instances;
  try {
    const stamp = Date.now().toString(36);
    const prefix = `soak-${stamp}-`;

    // Set-up, crossing the instances on purpose: a user created through A signs in on B.
    const admin = await expectOk(a, 'POST', '/api/v1/auth/login', { body: { email: ADMIN.email, password: data.password } }, 'admin login');
    const editorEmail = `soak-editor-${stamp}@bench.example.com`;
    await expectOk(b, 'POST', '/api/v1/users', { token: admin.accessToken, body: { email: editorEmail, displayName: `soak-editor-${stamp}`, roles: ['editor'], departmentId: data.departmentIds[0], password: data.password } }, 'editor creation');
    const signIn = (instance, email) => expectOk(instance, 'POST', '/api/v1/auth/login', { body: { email, password: data.password } }, `login of ${email}`);
    const writers = [
      { role: 'manager', token: (await signIn(b, 'manager00@bench.example.com')).accessToken },
      { role: 'editor', token: (await signIn(a, editorEmail)).accessToken },
    ];
    const viewer0 = (await signIn(b, data.loginPool[0])).accessToken;
    const refreshPool = [];
    const accessTokens = [viewer0];
    for (let i = 0; i < 8; i += 4) {
      const sessions = await Promise.all([0, 1, 2, 3].map((k) => signIn(instances[k % 2], data.loginPool[(i + k) % data.loginPool.length])));
      for (const s of sessions) {
        refreshPool.push(s.refreshToken);
        accessTokens.push(s.accessToken);
      }
    }
    const keepToken = (token) => {
      accessTokens.push(token);
      if (accessTokens.length > 64) accessTokens.splice(1, 1); // index 0 (viewer0) stays
    };

    for (const i of instances) i.metricsBefore = errors5xx(await scrape(i.baseUrl));

    // Bookkeeping.
    const stats = Object.fromEntries(Object.keys(LABELS).map((k) => [k, { times: [], statuses: {}, failures: 0, unexpected: 0 }]));
    const perInstance = Object.fromEntries(instances.map((i) => [i.name, { answers: 0, client5xx: 0, failures: 0 }]));
    const acked = new Map(); // id → { title, version, versionUnknown }
    const updatable = []; // { id, writer } not being updated right now
    const unknownCreates = []; // titles whose POST got no answer (time-out, reset)
    let conflicts = 0;
    let readAfterWriteMisses = 0;
    let updatesAcked = 0;
    let seq = 0;
    let turn = 0;
    let created = 0;
    let refreshStarved = 0;

    const record = (op, instance, r, expected) => {
      const s = stats[op];
      const p = perInstance[instance.name];
      if (r.status === 0) {
        s.failures++;
        p.failures++;
        return;
      }
      s.times.push(r.ms);
      s.statuses[r.status] = (s.statuses[r.status] || 0) + 1;
      if (r.status !== expected) s.unexpected++;
      p.answers++;
      if (r.status >= 500) p.client5xx++;
    };

    const ops = {
      async login(instance) {
        const email = data.loginPool[seq % data.loginPool.length];
        const r = await send(instance, 'POST', '/api/v1/auth/login', { body: { email, password: data.password } });
        record('login', instance, r, 200);
        if (r.status === 200) {
          if (refreshPool.length < 256) refreshPool.push(r.json.refreshToken);
          keepToken(r.json.accessToken);
        }
      },
      async refresh(instance) {
        const token = refreshPool.shift(); // each refresh token is presented once
        if (!token) {
          refreshStarved++;
          return ops.login(instance);
        }
        const r = await send(instance, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: token } });
        record('refresh', instance, r, 200);
        if (r.status === 200) {
          refreshPool.push(r.json.refreshToken);
          keepToken(r.json.accessToken);
        }
      },
      async whoami(instance) {
        const token = accessTokens[seq % accessTokens.length];
        record('whoami', instance, await send(instance, 'GET', '/api/v1/auth/whoami', { token }), 200);
      },
      async documentGet(instance) {
        // Every other read is of a document this soak wrote, through whichever instance comes up.
        const mine = seq % 2 === 0 && updatable.length ? updatable[seq % updatable.length] : null;
        if (mine) {
          const r = await send(instance, 'GET', `/api/v1/documents/${mine.id}`, { token: mine.writer.token });
          record('documentGet', instance, r, 200);
          if (r.status === 404) readAfterWriteMisses++;
        } else {
          const id = data.readableIds[seq % data.readableIds.length];
          record('documentGet', instance, await send(instance, 'GET', `/api/v1/documents/${id}`, { token: viewer0 }), 200);
        }
      },
      async list(instance) {
        const token = seq % 2 ? writers[0].token : accessTokens[seq % accessTokens.length];
        record('list', instance, await send(instance, 'GET', '/api/v1/documents?limit=20', { token }), 200);
      },
      async create(instance) {
        const writer = writers[created % writers.length];
        const title = `${prefix}${created++}`;
        const r = await send(instance, 'POST', '/api/v1/documents', { token: writer.token, body: { title, body: `Written by the soak as ${writer.role} through ${instance.name}.`, classification: 'internal' } });
        record('create', instance, r, 201);
        if (r.status === 201 && r.json?.id) {
          acked.set(r.json.id, { title, version: r.json.version, versionUnknown: false });
          updatable.push({ id: r.json.id, writer });
        } else if (r.status === 0) {
          unknownCreates.push(title);
        }
      },
      async update(instance) {
        const doc = updatable.length > 8 ? updatable.splice(seq % updatable.length, 1)[0] : null; // held exclusively
        if (!doc) return ops.create(instance);
        const entry = acked.get(doc.id);
        const r = await send(instance, 'PATCH', `/api/v1/documents/${doc.id}`, { token: doc.writer.token, body: { body: `Revision ${entry.version + 1} through ${instance.name}.`, version: entry.version } });
        record('update', instance, r, 200);
        if (r.status === 200 && r.json?.version) {
          entry.version = r.json.version;
          updatesAcked++;
          updatable.push(doc);
        } else if (r.status === 409) {
          conflicts++; // nobody else holds this document: a 409 means a lost or phantom update
          entry.versionUnknown = true;
        } else if (r.status === 0) {
          entry.versionUnknown = true; // the change may or may not have landed
        } else {
          updatable.push(doc);
        }
      },
    };

    // RSS of each instance, every second.
    const started = performance.now();
    const rss = Object.fromEntries(instances.map((i) => [i.name, []]));
    const sample = () => {
      const t = Math.round((performance.now() - started) / 100) / 10;
      for (const i of instances) rss[i.name].push({ t, rssKiB: i.server.rssKiB() });
    };
    sample();
    const sampler = setInterval(sample, 1000);
    const end = started + seconds * 1000;
    let lastReport = started;
    log(`soak: ${WORKERS} workers, ${seconds} s, instances ${instances.map((i) => `${i.name}=${i.baseUrl} (pid ${i.server.pid})`).join(', ')}`);
    try {
      await Promise.all(
        Array.from({ length: WORKERS }, async () => {
          while (!stopRequested && performance.now() < end) {
            const op = ORDER[seq % ORDER.length];
            seq++;
            const instance = instances[turn++ % instances.length];
            await ops[op](instance);
            if (performance.now() - lastReport > 30_000) {
              lastReport = performance.now();
              log(`soak: ${Math.round((lastReport - started) / 1000)} s, ${Object.values(perInstance).reduce((n, p) => n + p.answers, 0)} answers, ${acked.size} documents written`);
            }
          }
        }),
      );
    } finally {
      clearInterval(sampler);
    }
    const elapsed = (performance.now() - started) / 1000;
    if (stopRequested) throw new Error('soak interrupted');

    // What each server counted itself.
    for (const i of instances) {
      const after = errors5xx(await scrape(i.baseUrl));
      const delta = {};
      for (const [key, count] of Object.entries(after)) if (count - (i.metricsBefore[key] || 0) > 0) delta[key] = count - (i.metricsBefore[key] || 0);
      perInstance[i.name].server5xx = Object.values(delta).reduce((x, y) => x + y, 0);
      perInstance[i.name].server5xxByRoute = delta;
      perInstance[i.name].pid = i.server.pid;
    }

    // Acknowledged writes against the database.
    const rows = await withClient(databaseUrl, (c) => c.query('SELECT id, title, version FROM documents WHERE left(title, length($1)) = $1', [prefix]));
    const inDb = new Map(rows.rows.map((row) => [row.id, row]));
    const lost = [...acked.keys()].filter((id) => !inDb.has(id));
    const phantom = rows.rows.filter((row) => !acked.has(row.id));
    const unknownTitles = new Set(unknownCreates);
    const phantomUnexplained = phantom.filter((row) => !unknownTitles.has(row.title));
    const versionMismatches = [...acked.entries()].filter(([id, e]) => !e.versionUnknown && inDb.has(id) && inDb.get(id).version !== e.version).map(([id, e]) => ({ id, acknowledged: e.version, database: inDb.get(id).version }));
    const writes = {
      titlePrefix: prefix,
      createsAcknowledged: acked.size,
      updatesAcknowledged: updatesAcked,
      rowsInDatabase: rows.rowCount,
      lost: lost.length,
      phantom: phantom.length,
      // A POST without an answer may have landed: such a row is reported, but is not a phantom.
      phantomUnexplained: phantomUnexplained.length,
      createsWithoutAnswer: unknownCreates.length,
      versionMismatches: versionMismatches.length,
      versionMismatchSample: versionMismatches.slice(0, 5),
      lostSample: lost.slice(0, 5),
      conflicts,
      readAfterWriteMisses,
    };

    // RSS: the last quarter-minute of each half (45–60 s against 105–120 s for 120 s).
    const windowS = Math.min(15, Math.max(1, Math.floor(seconds / 4)));
    const half = seconds / 2;
    const windows = { first: [half - windowS, half], second: [seconds - windowS, seconds] };
    const memory = {};
    for (const i of instances) {
      const inWindow = ([from, to]) => rss[i.name].filter((s) => s.t >= from && s.t < to && s.rssKiB > 0).map((s) => s.rssKiB);
      const first = mean(inWindow(windows.first));
      const second = mean(inWindow(windows.second));
      const growthPct = first && second ? Math.round((100 * (second / first - 1)) * 100) / 100 : null;
      memory[i.name] = { firstMb: first && Math.round(first / 102.4) / 10, secondMb: second && Math.round(second / 102.4) / 10, growthPct, samples: rss[i.name] };
    }

    const operations = {};
    for (const [op, s] of Object.entries(stats)) {
      const ok = Object.entries(s.statuses).reduce((n, [code, count]) => (code.startsWith('2') ? n + count : n), 0);
      operations[op] = { label: LABELS[op], requests: s.times.length, rps: Math.round((ok / elapsed) * 10) / 10, ...summarize(s.times), statuses: s.statuses, unexpected: s.unexpected, failures: s.failures };
    }
    const all = Object.values(stats).flatMap((s) => s.times);
    const totalOk = Object.values(operations).reduce((n, o) => n + Object.entries(o.statuses).reduce((m, [code, count]) => (code.startsWith('2') ? m + count : m), 0), 0);
    return {
      seconds: Math.round(elapsed * 100) / 100,
      workers: WORKERS,
      mix: Object.fromEntries(Object.keys(LABELS).map((k) => [k, MIX.filter((m) => m === k).length / MIX.length])),
      requests: all.length,
      rps: Math.round((totalOk / elapsed) * 10) / 10,
      ...summarize(all),
      refreshStarved,
      operations,
      instances: perInstance,
      writes,
      memory: { windowSeconds: windowS, windows, limitPct: GROWTH_LIMIT_PCT, ...memory },
    };
  } finally {
    for (const i of instances) i.agent.destroy();
  }
}

/** The soak's checks and table rows. */
function judgeSoak(s) {
  const check = (value, target, pass) => ({ value, target, pass });
  const verdict = (ok) => (ok ? 'pass' : 'MISS');
  const names = Object.keys(s.instances);
  const client5xx = names.reduce((n, k) => n + s.instances[k].client5xx, 0);
  const server5xx = names.reduce((n, k) => n + s.instances[k].server5xx, 0);
  const w = s.writes;
  const writesOk = w.lost === 0 && w.phantomUnexplained === 0 && w.versionMismatches === 0 && w.conflicts === 0 && w.readAfterWriteMisses === 0 && w.createsAcknowledged > 0;
  const growth = names.map((k) => s.memory[k].growthPct);
  const memoryOk = growth.every((g) => g !== null && g < GROWTH_LIMIT_PCT);
  const checks = {
    soak5xx: check({ client: client5xx, server: server5xx }, '0', client5xx === 0 && server5xx === 0),
    soakWrites: check({ acknowledged: w.createsAcknowledged, inDatabase: w.rowsInDatabase, lost: w.lost, phantom: w.phantomUnexplained, versionMismatches: w.versionMismatches }, '0 lost, 0 phantom', writesOk),
    soakRssGrowthPct: check(Object.fromEntries(names.map((k, i) => [k, growth[i]])), `< ${GROWTH_LIMIT_PCT}`, memoryOk),
  };
  const rows = [
    {
      scenario: `soak: mixed load, ${names.length} instances, ${s.seconds} s`,
      connections: s.workers,
      requests: s.requests,
      rps: s.rps,
      p50: s.p50,
      p95: s.p95,
      p99: s.p99,
      ratio: names.map((k) => `${k} ${s.instances[k].answers}`).join(' / ') + ' answers',
      errors: Object.values(s.operations).reduce((n, o) => n + o.unexpected + o.failures, 0),
    },
    ...Object.values(s.operations).map((o) => ({ scenario: `  soak ${o.label}`, requests: o.requests, rps: o.rps, p50: o.p50, p95: o.p95, p99: o.p99, errors: o.unexpected + o.failures })),
    { scenario: 'soak 5xx (client / server /metrics)', ratio: names.map((k) => `${k} ${s.instances[k].client5xx}/${s.instances[k].server5xx}`).join(', '), target: '0', result: verdict(checks.soak5xx.pass) },
    {
      scenario: 'soak writes: acknowledged vs database',
      ratio: `${w.createsAcknowledged} created + ${w.updatesAcknowledged} updates acked, ${w.rowsInDatabase} rows; ${w.lost} lost, ${w.phantomUnexplained} phantom, ${w.versionMismatches} version mismatches`,
      target: '0 lost, 0 phantom',
      result: verdict(checks.soakWrites.pass),
    },
    ...names.map((k) => {
      const m = s.memory[k];
      const [f, t] = [s.memory.windows.first, s.memory.windows.second];
      return {
        scenario: `soak RSS growth instance ${k}`,
        ratio: m.growthPct === null ? 'no samples' : `${m.growthPct >= 0 ? '+' : ''}${m.growthPct.toFixed(1)} % (${m.firstMb} MB at ${f[0]}–${f[1]} s → ${m.secondMb} MB at ${t[0]}–${t[1]} s)`,
        target: `< ${GROWTH_LIMIT_PCT} %`,
        result: verdict(m.growthPct !== null && m.growthPct < GROWTH_LIMIT_PCT),
      };
    }),
  ];
  return { checks, rows };
}

module.exports = { judgeSoak, soak, stopSoak };
