'use strict';
// The targets of the issues, judged; the results as one table (aligned text and Markdown), and the
// full detail as JSON.
const { mkdirSync, writeFileSync } = require('node:fs');
const { dirname } = require('node:path');

const COLUMNS = ['scenario', 'conns', 'answers', 'RPS', 'p50 ms', 'p95 ms', 'p99 ms', 'ratio', 'target', 'result'];
const LEFT_ALIGNED = new Set([0, 7, 8, 9]);
const verdict = (ok) => (ok ? 'pass' : 'MISS');
const times = (v) => `${v.toFixed(2)}×`;
const check = (value, target, pass) => ({ value, target, pass });

/**
 * "Authorization adds" relates the CPU time of a full document decision (guard, record check,
 * field filter) to whoami's time per request on the saturated event loop, less whoami's own guard.
 */
function judge({ scenarios: s, naiveList: naive, authorization, argon2, server }) {
  const requestUs = 1e6 / s.whoami.rps;
  authorization.whoamiRequestUs = Math.round(requestUs * 10) / 10;
  authorization.addsPct = Math.round(((100 * authorization.documentReadUs) / (requestUs - authorization.signedInGuardUs)) * 100) / 100;
  authorization.formula = 'documentReadUs / (1e6 / whoami RPS - signedInGuardUs)';
  const total5xx = Object.values(server.errors5xx).reduce((a, b) => a + b, 0);
  const checks = {
    whoamiVsBaseline: check(s.whoami.rps / s.baseline.rps, '≥ 0.6', s.whoami.rps / s.baseline.rps >= 0.6),
    loginVsArgon2Bound: check(s.login.rps / argon2.boundPerSecond, '≥ 0.9', s.login.rps / argon2.boundPerSecond >= 0.9),
    listViewerP95Ms: check(s.listViewer.p95, '< 20', s.listViewer.p95 < 20),
    listManagerP95Ms: check(s.listManager.p95, '< 20', s.listManager.p95 < 20),
    authorizationAddsPct: check(authorization.addsPct, '< 10', authorization.addsPct < 10),
    server5xx: check(total5xx, '0', total5xx === 0),
    baselineDrift: check(s.baselineAgain.rps / s.baseline.rps, '0.9–1.1', Math.abs(s.baselineAgain.rps / s.baseline.rps - 1) <= 0.1),
  };

  const errors = (r) => r.non2xx + r.socketErrors;
  const http = (r, extra) => ({ ...r, errors: errors(r), ...extra });
  const vsBaseline = (r) => `${times(r.rps / s.baseline.rps)} baseline`;
  const vsBound = (r) => `${times(r.rps / argon2.boundPerSecond)} Argon2 bound, ${times(r.rps / argon2.parallelPerSecond)} parallel hashing`;
  const lag = s.livenessDuringStorm.eventLoopLagMs;
  const rows = [
    http(s.baseline, { scenario: 'GET /health/live (baseline)', ratio: '1.00×' }),
    http(s.whoami, { scenario: 'GET /auth/whoami', ratio: vsBaseline(s.whoami), target: '≥ 0.60× baseline', result: verdict(checks.whoamiVsBaseline.pass) }),
    { scenario: 'authorization (in-process)', ratio: `+${authorization.addsPct.toFixed(1)} % on whoami (${authorization.documentReadUs} µs)`, target: '< 10 %', result: verdict(checks.authorizationAddsPct.pass) },
    http(s.usersMe, { scenario: 'GET /users/me', ratio: vsBaseline(s.usersMe) }),
    http(s.documentGet, { scenario: 'GET /documents/:id', ratio: vsBaseline(s.documentGet) }),
    http(s.listViewer, { scenario: 'GET /documents?limit=20 viewer', ratio: vsBaseline(s.listViewer), target: 'p95 < 20 ms', result: verdict(checks.listViewerP95Ms.pass) }),
    http(s.listManager, { scenario: 'GET /documents?limit=20 manager', ratio: vsBaseline(s.listManager), target: 'p95 < 20 ms', result: verdict(checks.listManagerP95Ms.pass) }),
    { scenario: 'naive list viewer (load all, filter in JS)', p50: naive.viewer.totalMs, ratio: `${times(naive.viewer.totalMs / s.listViewer.p50)} SQL list p50` },
    { scenario: 'naive list manager (load all, filter in JS)', p50: naive.manager.totalMs, ratio: `${times(naive.manager.totalMs / s.listManager.p50)} SQL list p50` },
    http(s.refresh, { scenario: 'POST /auth/refresh', ratio: vsBaseline(s.refresh) }),
    { scenario: `Argon2id hashing alone, ${argon2.cores} at once (in-process)`, rps: argon2.parallelPerSecond, ratio: `${times(argon2.parallelVsBound)} Argon2 bound` },
    http(s.login, { scenario: 'POST /auth/login', ratio: vsBound(s.login), target: '≥ 0.90× bound', result: verdict(checks.loginVsArgon2Bound.pass) }),
    http(s.loginStorm, { scenario: 'POST /auth/login storm', ratio: vsBound(s.loginStorm) }),
    http(s.clientCredentials, { scenario: 'POST /oidc/token client_credentials', ratio: `${vsBaseline(s.clientCredentials)}, ${vsBound(s.clientCredentials)}` }),
    // "answers" and RPS are whole round trips (4 requests each: authorize, interaction, resume, token).
    http(s.authCodeRoundTrip, { scenario: 'OIDC code round trip (signed in): authorize → token', ratio: `${vsBaseline(s.authCodeRoundTrip)}, ${vsBound(s.authCodeRoundTrip)}` }),
    { ...s.livenessDuringStorm, scenario: 'GET /health/live during storm (probe)', connections: '50/s', errors: s.livenessDuringStorm.failures },
    { scenario: 'event-loop delay during storm (server)', p50: lag.p50, p99: lag.p99, ratio: lag.max === null ? '' : `max ${lag.max} ms` },
    http(s.baselineAgain, { scenario: 'GET /health/live (baseline again)', ratio: vsBaseline(s.baselineAgain), target: '0.90–1.10× (quiet machine)', result: checks.baselineDrift.pass ? 'pass' : 'NOISY' }),
    { scenario: 'server peak RSS', ratio: `${server.peakRssMb} MB` },
    { scenario: 'server 5xx answers', ratio: String(total5xx), target: '0', result: verdict(checks.server5xx.pass) },
  ];
  return { checks, rows };
}

const show = (v, digits = 2) => (v === null || v === undefined ? '' : typeof v === 'number' ? String(Math.round(v * 10 ** digits) / 10 ** digits) : String(v));

function cellsOf(r) {
  const cells = [r.scenario, show(r.connections), show(r.requests), show(r.rps, 1), show(r.p50), show(r.p95), show(r.p99), r.ratio || '', r.target || '', r.result || ''];
  if (r.errors) cells[0] += ` (${r.errors} errors)`;
  return cells;
}

function textTable(rows) {
  const cells = [COLUMNS, ...rows.map(cellsOf)];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((c) => c[i].length)));
  const line = (c) => c.map((v, i) => (LEFT_ALIGNED.has(i) ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ').trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

function markdownTable(rows) {
  const escape = (v) => v.replace(/\|/g, '\\|');
  const lines = [`| ${COLUMNS.join(' | ')} |`, `|${COLUMNS.map((_, i) => (LEFT_ALIGNED.has(i) ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of rows) lines.push(`| ${cellsOf(r).map(escape).join(' | ')} |`);
  return lines.join('\n');
}

function write(file, results) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}

module.exports = { judge, markdownTable, textTable, write };
