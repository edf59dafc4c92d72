'use strict';
// Alternating rounds: the bare app, then each scenario, `rounds` times over. Each scenario's ratio
// is the median of its per-round ratios to the bare app's run of the same round, so a burst of
// load from elsewhere on the machine moves both sides of a ratio, not one.

const median = (values) => {
  const sorted = values.filter((v) => typeof v === 'number' && !Number.isNaN(v)).sort((a, b) => a - b);
  if (!sorted.length) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round2 = (v) => (v === null ? null : Math.round(v * 100) / 100);

/**
 * `runs` is `[key, () => Promise<result>]`, the bare app's first. Returns each key's results, one
 * per round, in the order they ran.
 */
async function alternate(rounds, runs, log) {
  const results = Object.fromEntries(runs.map(([key]) => [key, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const [key, run] of runs) {
      log(`round ${round}/${rounds}: ${key}`);
      results[key].push(await run());
    }
  }
  return results;
}

/** Per scenario: median RPS, latency percentiles and CPU per request, and the median ratio to `bare`. */
function summarizeRounds(results, bareKey) {
  const bare = results[bareKey];
  return Object.fromEntries(
    Object.entries(results).map(([key, runs]) => {
      const m = (field) => median(runs.map((r) => r[field]));
      const ratios = runs.map((r, i) => r.rps / bare[i].rps);
      return [
        key,
        {
          label: runs[0].label,
          connections: runs[0].connections,
          requests: runs.reduce((n, r) => n + r.requests, 0),
          rps: round2(m('rps')),
          p50: round2(m('p50')),
          p95: round2(m('p95')),
          p99: round2(m('p99')),
          cpuUsPerRequest: m('cpuUsPerRequest'),
          non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
          socketErrors: runs.reduce((n, r) => n + r.socketErrors, 0),
          ratio: round2(median(ratios) * 100) / 100,
          ratios: ratios.map((r) => Math.round(r * 1000) / 1000),
          rounds: runs,
        },
      ];
    }),
  );
}

module.exports = { alternate, median, summarizeRounds };
