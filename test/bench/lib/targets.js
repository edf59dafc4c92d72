'use strict';
// The targets of issues 3, 4 and 13, in one place: `npm run bench` judges its run with them and
// `npm run bench:check` judges bench-results/latest.json again (exit 1 when one is missed).

const TARGETS = [
  { key: 'liveVsBare', label: 'GET /health/live ÷ bare app', value: (r) => r.compared.live.ratio, min: 0.8 },
  { key: 'whoamiVsBare', label: 'GET /auth/whoami ÷ bare app', value: (r) => r.compared.whoami.ratio, min: 0.5 },
  { key: 'documentGetVsBare', label: 'GET /documents/:id ÷ bare app', value: (r) => r.compared.documentGet.ratio, min: 0.2 },
  { key: 'refreshVsBare', label: 'POST /auth/refresh ÷ bare app', value: (r) => r.comparedRefresh.refresh.ratio, min: 0.1 },
  { key: 'whoamiP99Ms', label: 'GET /auth/whoami p99 (ms, 50 connections)', value: (r) => r.compared.whoami.p99, below: 20 },
  { key: 'loginVsArgon2Bound', label: 'POST /auth/login ÷ Argon2id bound', value: (r) => r.scenarios.login.rps / r.argon2.boundPerSecond, min: 0.8 },
  { key: 'listViewerP95Ms', label: 'GET /documents?limit=20 viewer p95 (ms)', value: (r) => r.scenarios.listViewer.p95, below: 20 },
  { key: 'listManagerP95Ms', label: 'GET /documents?limit=20 manager p95 (ms)', value: (r) => r.scenarios.listManager.p95, below: 20 },
  { key: 'authorizationAddsPct', label: 'authorization adds to whoami (%)', value: (r) => r.authorization.addsPct, below: 10 },
  { key: 'peakRssMb', label: 'server peak RSS (MB)', value: (r) => r.server.peakRssMb, below: 200 },
  { key: 'server5xx', label: 'server 5xx answers', value: (r) => Object.values(r.server.errors5xx).reduce((a, b) => a + b, 0), below: 1 },
];

const describe = (t) => (t.min !== undefined ? `≥ ${t.min}` : t.below === 1 ? '0' : `< ${t.below}`);

/** Each target's measured value and verdict. */
function evaluate(results) {
  return Object.fromEntries(
    TARGETS.map((t) => {
      const raw = t.value(results);
      const value = typeof raw === 'number' ? Math.round(raw * 1000) / 1000 : raw;
      const pass = typeof value === 'number' && (t.min !== undefined ? value >= t.min : value < t.below);
      return [t.key, { label: t.label, value, target: describe(t), pass }];
    }),
  );
}

module.exports = { TARGETS, evaluate };
