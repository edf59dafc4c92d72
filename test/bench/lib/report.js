'use strict';
// The targets of the issues, judged; the results as one table (aligned text and Markdown), and the
// full detail as JSON.
const { mkdirSync, writeFileSync } = require('node:fs');
const { dirname } = require('node:path');
const { enumerationRows } = require('./enumeration-timing');

const { evaluate } = require('./targets');

const COLUMNS = ['scenario', 'conns', 'answers', 'RPS', 'p50 ms', 'p95 ms', 'p99 ms', 'CPU µs/req', 'ratio', 'target', 'result'];
const LEFT_ALIGNED = new Set([0, 8, 9, 10]);
const verdict = (ok) => (ok ? 'pass' : 'MISS');
const times = (v) => `${v.toFixed(2)}×`;

/**
 * "Authorization adds" relates the CPU time of a full document decision (guard, record check,
 * field filter) to whoami's time per request on the saturated event loop, less whoami's own guard.
 */
function judge(measured) {
  const { scenarios: s, compared: c, comparedRefresh: cr, naiveList: naive, authorization, argon2, server } = measured;
  const requestUs = 1e6 / c.whoami.rps;
  authorization.whoamiRequestUs = Math.round(requestUs * 10) / 10;
  authorization.addsPct = Math.round(((100 * authorization.documentReadUs) / (requestUs - authorization.signedInGuardUs)) * 100) / 100;
  authorization.formula = 'documentReadUs / (1e6 / whoami RPS - signedInGuardUs)';
  const checks = evaluate(measured);
  const bareSpread = Math.max(...c.bare.rounds.map((r) => r.rps)) / Math.min(...c.bare.rounds.map((r) => r.rps));

  const errors = (r) => r.non2xx + r.socketErrors;
  const http = (r, extra) => ({ ...r, errors: errors(r), ...extra });
  const vsBare = (r) => `${times(r.ratio)} bare (rounds ${r.ratios.map((x) => x.toFixed(2)).join(', ')})`;
  const vsBareMedian = (r) => `${times(r.rps / c.bare.rps)} bare`;
  const vsBound = (r) => `${times(r.rps / argon2.boundPerSecond)} Argon2 bound, ${times(r.rps / argon2.parallelPerSecond)} parallel hashing`;
  const judged = (key, extra) => ({ target: checks[key].target, result: verdict(checks[key].pass), ...extra });
  const lag = s.livenessDuringStorm.eventLoopLagMs;
  const rows = [
    http(c.bare, { scenario: 'bare NestJS + Fastify GET /health/live', ratio: `1.00× (rounds ${c.bare.rounds.map((r) => Math.round(r.rps)).join(', ')} RPS)` }),
    http(c.live, { scenario: 'GET /health/live', ratio: vsBare(c.live), ...judged('liveVsBare') }),
    http(c.whoami, { scenario: 'GET /auth/whoami', ratio: vsBare(c.whoami), ...judged('whoamiVsBare') }),
    { scenario: 'GET /auth/whoami p99', p99: c.whoami.p99, ...judged('whoamiP99Ms', { target: `p99 ${checks.whoamiP99Ms.target} ms` }) },
    { scenario: 'authorization (in-process)', ratio: `+${authorization.addsPct.toFixed(1)} % on whoami (${authorization.documentReadUs} µs)`, ...judged('authorizationAddsPct', { target: '< 10 %' }) },
    http(c.usersMe, { scenario: 'GET /users/me', ratio: vsBare(c.usersMe) }),
    http(c.documentGet, { scenario: 'GET /documents/:id', ratio: vsBare(c.documentGet), ...judged('documentGetVsBare') }),
    http(s.listViewer, { scenario: 'GET /documents?limit=20 viewer', ratio: vsBareMedian(s.listViewer), ...judged('listViewerP95Ms', { target: 'p95 < 20 ms' }) }),
    http(s.listManager, { scenario: 'GET /documents?limit=20 manager', ratio: vsBareMedian(s.listManager), ...judged('listManagerP95Ms', { target: 'p95 < 20 ms' }) }),
    http(c.loginPage, { scenario: 'GET /login (hosted page)', ratio: vsBare(c.loginPage) }),
    http(c.accountPage, { scenario: 'GET /account (hosted page, signed in)', ratio: vsBare(c.accountPage) }),
    { scenario: 'naive list viewer (load all, filter in JS)', p50: naive.viewer.totalMs, ratio: `${times(naive.viewer.totalMs / s.listViewer.p50)} SQL list p50` },
    { scenario: 'naive list manager (load all, filter in JS)', p50: naive.manager.totalMs, ratio: `${times(naive.manager.totalMs / s.listManager.p50)} SQL list p50` },
    http(cr.bare, { scenario: 'bare app (refresh rounds)', ratio: `rounds ${cr.bare.rounds.map((r) => Math.round(r.rps)).join(', ')} RPS` }),
    http(cr.refresh, { scenario: 'POST /auth/refresh', ratio: vsBare(cr.refresh), ...judged('refreshVsBare') }),
    { scenario: `Argon2id hashing alone, ${argon2.cores} at once (in-process)`, rps: argon2.parallelPerSecond, ratio: `${times(argon2.parallelVsBound)} Argon2 bound` },
    http(s.login, { scenario: 'POST /auth/login', ratio: vsBound(s.login), ...judged('loginVsArgon2Bound', { target: '≥ 0.80× bound' }) }),
    http(s.loginStorm, { scenario: 'POST /auth/login storm', ratio: vsBound(s.loginStorm) }),
    ...enumerationRows('POST /auth/password/forgot', s.forgotTiming),
    ...enumerationRows('POST /auth/resend-verification', s.resendTiming),
    http(s.clientCredentials, { scenario: 'POST /oidc/token client_credentials', ratio: `${vsBareMedian(s.clientCredentials)}, ${vsBound(s.clientCredentials)}` }),
    // "answers" and RPS are whole round trips (4 requests each: authorize, interaction, resume, token).
    http(s.authCodeRoundTrip, { scenario: 'OIDC code round trip (signed in): authorize → token', ratio: `${vsBareMedian(s.authCodeRoundTrip)}, ${vsBound(s.authCodeRoundTrip)}` }),
    { ...s.livenessDuringStorm, scenario: 'GET /health/live during storm (probe)', connections: '50/s', errors: s.livenessDuringStorm.failures },
    { scenario: 'event-loop delay during storm (server)', p50: lag.p50, p99: lag.p99, ratio: lag.max === null ? '' : `max ${lag.max} ms` },
    { scenario: 'bare app RPS spread over the rounds', ratio: `max ÷ min ${bareSpread.toFixed(2)}`, target: '≤ 1.10 (quiet machine)', result: bareSpread <= 1.1 ? 'quiet' : 'NOISY' },
    { scenario: 'server peak RSS', ratio: `${server.peakRssMb} MB`, ...judged('peakRssMb', { target: '< 200 MB' }) },
    { scenario: 'server 5xx answers', ratio: String(checks.server5xx.value), ...judged('server5xx') },
  ];
  return { checks, rows };
}

const show = (v, digits = 2) => (v === null || v === undefined ? '' : typeof v === 'number' ? String(Math.round(v * 10 ** digits) / 10 ** digits) : String(v));

function cellsOf(r) {
  const cells = [r.scenario, show(r.connections), show(r.requests), show(r.rps, 1), show(r.p50), show(r.p95), show(r.p99), show(r.cpuUsPerRequest, 0), r.ratio || '', r.target || '', r.result || ''];
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
