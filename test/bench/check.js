'use strict';
// npm run bench:check: judges bench-results/latest.json (written by npm run bench) against the
// targets of test/bench/lib/targets.js and exits 1 when one is missed. Run it by hand and before a
// release, not in CI: shared CI machines are too noisy for load figures.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { evaluate } = require('./lib/targets');
const { judgeSoak } = require('./lib/soak');

const file = process.argv[2] || join(__dirname, '..', '..', 'bench-results', 'latest.json');
let results;
try {
  results = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  process.stderr.write(`cannot read ${file} (run "npm run bench" first): ${err.message}\n`);
  process.exit(2);
}
if (!results.compared) {
  process.stderr.write(`${file} predates the comparison with the bare app: run "npm run bench" again\n`);
  process.exit(2);
}

const checks = Object.entries(evaluate(results)).map(([key, c]) => ({ key, ...c }));
if (results.soak) checks.push(...Object.entries(judgeSoak(results.soak).checks).map(([key, c]) => ({ key, label: key, ...c })));
const width = Math.max(...checks.map((c) => c.label.length));
for (const c of checks) {
  process.stdout.write(`${c.pass ? 'pass' : 'MISS'}  ${c.label.padEnd(width)}  ${JSON.stringify(c.value)} (target ${c.target})\n`);
}
const missed = checks.filter((c) => !c.pass);
process.stdout.write(`\n${file}, run of ${results.startedAt} (load average before ${results.machine.loadavgBefore.map((l) => l.toFixed(2)).join(' ')}): ${missed.length ? `${missed.length} target(s) missed` : 'every target met'}\n`);
process.exit(missed.length ? 1 : 0);
