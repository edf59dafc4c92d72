'use strict';
// Enumeration by timing (ASVS 6.3.8): a credential route that accepts any address (forgot-password,
// resend-verification) is asked for known and unknown addresses, interleaved on one connection
// (known, unknown, unknown, known, … — the order alternates per pair), so both kinds meet the same
// machine state; the ratio of their percentiles says whether the answer time tells them apart.
const { Buffer } = require('node:buffer');
const http = require('node:http');
const { randomBytes } = require('node:crypto');
const { performance } = require('node:perf_hooks');
const { summarize } = require('./load');

function post(agent, url, body) {
  return new Promise((resolve) => {
    const payload = JSON.stringify(body);
    const started = performance.now();
    const req = http.request(url, { method: 'POST', agent, timeout: 10_000, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ms: performance.now() - started, status: res.statusCode }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', () => resolve({ ms: performance.now() - started, status: 0 }));
    req.end(payload);
  });
}

/** `known` addresses have accounts; unknown ones are fresh each time (never registered). */
async function enumerationTiming({ baseUrl, path, known, seconds, warmupSeconds }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = `${baseUrl}${path}`;
  const ghost = () => `bench-ghost-${randomBytes(6).toString('hex')}@bench.example.com`;
  const samples = { known: { times: [], statuses: {} }, unknown: { times: [], statuses: {} } };
  let pair = 0;
  const runFor = async (secs, record) => {
    const deadline = performance.now() + secs * 1000;
    while (performance.now() < deadline) {
      const order = pair % 2 === 0 ? ['known', 'unknown'] : ['unknown', 'known'];
      for (const kind of order) {
        const email = kind === 'known' ? known[pair % known.length] : ghost();
        const { ms, status } = await post(agent, url, { email });
        if (!record) continue;
        samples[kind].times.push(ms);
        samples[kind].statuses[status] = (samples[kind].statuses[status] || 0) + 1;
      }
      pair++;
    }
  };
  await runFor(warmupSeconds, false);
  await runFor(seconds, true);
  agent.destroy();
  const of = (s) => ({ requests: s.times.length, ...summarize(s.times), statuses: s.statuses, non2xx: s.times.length - (s.statuses[202] || 0) });
  const result = { connections: 1, known: of(samples.known), unknown: of(samples.unknown) };
  result.ratioP50 = Math.round((result.known.p50 / result.unknown.p50) * 100) / 100;
  result.ratioP95 = Math.round((result.known.p95 / result.unknown.p95) * 100) / 100;
  return result;
}

/** Two report rows per route: known and unknown, the ratio (known ÷ unknown) on the first. */
function enumerationRows(label, r) {
  return [
    { ...r.known, connections: r.connections, errors: r.known.non2xx, scenario: `${label} known address (interleaved)`, ratio: `known/unknown p50 ${r.ratioP50.toFixed(2)}×, p95 ${r.ratioP95.toFixed(2)}×`, target: '≈ 1.00× (no timing oracle)' },
    { ...r.unknown, connections: r.connections, errors: r.unknown.non2xx, scenario: `${label} unknown address (interleaved)` },
  ];
}

module.exports = { enumerationRows, enumerationTiming };
