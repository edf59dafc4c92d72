'use strict';
// Load generation: autocannon in this process, every response time kept (exact percentiles with
// sub-millisecond resolution, which autocannon's integer histogram does not give), plus a
// low-rate liveness probe for measuring responsiveness while something else saturates the server.
const autocannon = require('autocannon');
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const { setInterval, clearInterval } = require('node:timers');
const { setTimeout: sleep } = require('node:timers/promises');

const running = new Set();

/** Stops every autocannon run in flight (on SIGINT). */
function stopAll() {
  for (const instance of running) instance.stop();
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

function summarize(times) {
  const sorted = Float64Array.from(times).sort();
  const round = (v) => (v === null ? null : Math.round(v * 100) / 100);
  return { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), p99: round(percentile(sorted, 99)), max: round(percentile(sorted, 100)) };
}

function cannon(options) {
  return new Promise((resolve, reject) => {
    const times = [];
    const statuses = {};
    const instance = autocannon({ timeout: 10, ...options }, (err, result) => {
      running.delete(instance);
      if (err) reject(err);
      else resolve({ result, times, statuses });
    });
    running.add(instance);
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      times.push(responseTime);
      statuses[statusCode] = (statuses[statusCode] || 0) + 1;
    });
  });
}

/**
 * A warm-up (discarded), then the measured run. RPS counts 2xx answers only; everything else is
 * reported as errors, so a route that fails fast cannot look fast. With `target` (a started
 * process), also the CPU time it spent per answer during the measured run: unlike RPS, that
 * figure hardly moves when other processes compete for the cores.
 */
async function measure({ baseUrl, path, seconds, warmupSeconds, connections, method = 'GET', headers = {}, body, requests, target }) {
  const options = { url: `${baseUrl}${path}`, connections, method, headers, body, requests };
  if (warmupSeconds > 0) await cannon({ ...options, duration: warmupSeconds });
  const cpuBefore = target?.cpuSeconds();
  const started = performance.now();
  const { result, times, statuses } = await cannon({ ...options, duration: seconds });
  const elapsed = (performance.now() - started) / 1000;
  const cpuUs = target ? ((target.cpuSeconds() - cpuBefore) * 1e6) / Math.max(1, times.length) : undefined;
  // autocannon hangs up on the requests still in flight; the server finishes them regardless.
  // Let them drain so they neither load the next scenario nor meet the shutdown.
  await sleep(Math.min(5_000, times.reduce((a, b) => Math.max(a, b), 0)));
  const ok = Object.entries(statuses).reduce((n, [code, count]) => (code.startsWith('2') ? n + count : n), 0);
  return {
    connections,
    seconds: Math.round(elapsed * 100) / 100,
    requests: times.length,
    rps: Math.round((ok / elapsed) * 10) / 10,
    ...summarize(times),
    statuses,
    non2xx: times.length - ok,
    socketErrors: result.errors,
    timeouts: result.timeouts,
    ...(cpuUs === undefined ? {} : { cpuUsPerRequest: Math.round(cpuUs) }),
  };
}

/** GET `path` every `intervalMs` for `seconds` (a probe, not load): each answer's time and status. */
async function probe({ baseUrl, path, seconds, intervalMs = 20 }) {
  const agent = new http.Agent({ keepAlive: true });
  const times = [];
  const statuses = {};
  let failures = 0;
  const pending = new Set();
  const shoot = () => {
    const started = performance.now();
    const request = new Promise((resolve) => {
      const req = http.get(`${baseUrl}${path}`, { agent, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          times.push(performance.now() - started);
          statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1;
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('probe timed out')));
      req.on('error', () => {
        failures++;
        resolve();
      });
    });
    pending.add(request);
    request.then(() => pending.delete(request));
  };
  const timer = setInterval(shoot, intervalMs);
  await sleep(seconds * 1000);
  clearInterval(timer);
  await Promise.all(pending);
  agent.destroy();
  return { requests: times.length, ...summarize(times), statuses, failures };
}

module.exports = { measure, probe, stopAll, summarize };
