'use strict';
// Preloaded (node -r) into the server under test. If the benchmark is killed before it can clean
// up (SIGKILL, a crashed terminal), the server is re-parented; it then stops itself, gracefully
// first and for good 15 s later (a SIGTERM during start-up may be swallowed). One check per
// second costs nothing measurable.
const { setInterval } = require('node:timers');

const parent = process.ppid;
let orphanedAt = 0;
setInterval(() => {
  if (process.ppid === parent) return;
  if (!orphanedAt) {
    orphanedAt = Date.now();
    process.kill(process.pid, 'SIGTERM');
  } else if (Date.now() - orphanedAt > 15_000) {
    process.exit(1);
  }
}, 1000).unref();
