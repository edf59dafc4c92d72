'use strict';
// Measurements taken in this process rather than over HTTP: the Argon2 bound for logins, the
// naive list (load everything, filter in memory) and the CPU cost of one authorization decision.
// The policy code is the server's own compiled code (dist/), so it decides exactly as the server.
require('reflect-metadata');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const os = require('node:os');
const { hash } = require('@node-rs/argon2');
const { withClient, ROOT } = require('./environment');

const dist = (path) => require(join(ROOT, 'dist', 'src', path));
const ARGON2ID = 2;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (v, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * Logins/s can never beat cores ÷ (one hash's time): each login verifies one Argon2id hash (the
 * server's defaults, m=19456 KiB t=2 p=1). Measured sequentially, median of `samples`. Hashes on
 * all cores at once are slower each (they share memory bandwidth and caches; on a VM, perhaps
 * hyperthreads of one physical core): `parallelPerSecond` is what `cores` concurrent hash loops
 * reach for `parallelSeconds`, with nothing else to do — the ceiling a login route can approach on
 * this machine. Both are reported; the target is stated against the first.
 */
async function argon2Bound(samples = 20, parallelSeconds = 3) {
  const options = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 };
  for (let i = 0; i < 3; i++) await hash(`warm-up password ${i}`, options);
  const times = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await hash(`benchmark password number ${i}`, options);
    times.push(performance.now() - started);
  }
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const hashMs = median(times);
  let hashes = 0;
  const started = performance.now();
  const until = started + parallelSeconds * 1000;
  await Promise.all(
    Array.from({ length: cores }, async (_, lane) => {
      for (let i = 0; performance.now() < until; i++, hashes++) await hash(`parallel password ${lane} ${i}`, options);
    }),
  );
  const parallelPerSecond = round(hashes / ((performance.now() - started) / 1000), 1);
  return {
    cores,
    params: 'm=19456,t=2,p=1',
    samples,
    hashMsMedian: round(hashMs),
    hashMsMin: round(Math.min(...times)),
    hashMsMax: round(Math.max(...times)),
    boundPerSecond: round(cores / (hashMs / 1000), 1),
    parallelPerSecond,
    parallelVsBound: round(parallelPerSecond / (cores / (hashMs / 1000))),
  };
}

/** The role catalog the server would load, read from the same database. */
async function roleCatalog(databaseUrl) {
  const rows = await withClient(databaseUrl, (c) => c.query('SELECT name, permissions, require_mfa FROM roles'));
  const roles = new Map(rows.rows.map((r) => [r.name, { permissions: r.permissions, requireMfa: r.require_mfa }]));
  return { version: 0, get: async () => ({ version: 0, roles }) };
}

async function abilityOf(factory, principal) {
  return (await factory.forSubject(principal)).ability;
}

/**
 * The alternative the SQL filter replaces: one query for all documents, the policy checked on each
 * row in memory, then sorted and paged. `runs` times; the median is reported.
 */
async function naiveList(databaseUrl, principals, runs = 3) {
  const { AbilityFactory } = dist('policies/ability-factory.js');
  const { asSubject } = dist('policies/app-ability.js');
  const factory = new AbilityFactory(await roleCatalog(databaseUrl));
  const abilities = {};
  for (const [name, principal] of Object.entries(principals)) abilities[name] = await abilityOf(factory, principal);
  const samples = Object.fromEntries(Object.keys(principals).map((name) => [name, []]));
  let rows = 0;
  await withClient(databaseUrl, async (c) => {
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      const result = await c.query(
        `SELECT id, title, body, status, classification, department_id AS "departmentId", owner_id AS "ownerId", version, created_at AS "createdAt", updated_at AS "updatedAt" FROM documents`,
      );
      const queryMs = performance.now() - started;
      rows = result.rows.length;
      for (const [name, ability] of Object.entries(abilities)) {
        const filterStarted = performance.now();
        const page = result.rows
          .filter((row) => ability.can('read', asSubject('Document', row)))
          .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
        const items = page.slice(0, 20);
        const filterMs = performance.now() - filterStarted;
        samples[name].push({ queryMs, filterMs, totalMs: queryMs + filterMs, matched: page.length, returned: items.length });
      }
    }
  });
  const out = { rows, runs };
  for (const [name, list] of Object.entries(samples)) {
    out[name] = {
      totalMs: round(median(list.map((s) => s.totalMs)), 1),
      queryMs: round(median(list.map((s) => s.queryMs)), 1),
      filterMs: round(median(list.map((s) => s.filterMs)), 1),
      matched: list[0].matched,
    };
  }
  return out;
}

/**
 * CPU time of authorization on one request, in steady state (abilities cached, as on the server):
 * the PoliciesGuard for a @CheckPolicy('read', 'Document') route, then the record check and field
 * filter the documents service does on GET /documents/:id. No database is touched.
 */
async function authorizationCost(databaseUrl, principal, record, iterations = 20_000) {
  const { Reflector } = require('@nestjs/core');
  const { AbilityFactory } = dist('policies/ability-factory.js');
  const { PoliciesGuard } = dist('policies/policies.guard.js');
  const { PolicyEnforcer } = dist('policies/policy-enforcer.js');
  const { CHECK_POLICY, SIGNED_IN } = dist('policies/check-policy.decorator.js');

  const factory = new AbilityFactory(await roleCatalog(databaseUrl));
  // Only deny() audits; the viewer is allowed here, so the enforcer never reaches the audit log.
  const enforcer = new PolicyEnforcer(null);
  const guard = new PoliciesGuard(new Reflector(), factory, enforcer);
  class BenchController {}
  const readDocument = function get() {};
  const whoami = function whoami() {};
  Reflect.defineMetadata(CHECK_POLICY, { action: 'read', subject: 'Document' }, readDocument);
  Reflect.defineMetadata(SIGNED_IN, true, whoami);
  const contextFor = (handler, request) => ({ getHandler: () => handler, getClass: () => BenchController, switchToHttp: () => ({ getRequest: () => request }) });

  const time = async (fn) => {
    for (let i = 0; i < 2_000; i++) await fn();
    const started = performance.now();
    for (let i = 0; i < iterations; i++) await fn();
    return round(((performance.now() - started) * 1000) / iterations);
  };
  const signedInUs = await time(async () => {
    const request = { user: principal };
    await guard.canActivate(contextFor(whoami, request));
  });
  const documentReadUs = await time(async () => {
    const request = { user: principal };
    await guard.canActivate(contextFor(readDocument, request));
    const auth = { principal, ...request.abilities };
    await enforcer.assertCan(auth, 'read', 'Document', { ...record });
    enforcer.visible(auth, 'Document', { ...record });
  });
  return { iterations, signedInGuardUs: signedInUs, documentReadUs };
}

/** A document as the service hands it to the policy engine (DocumentsService's view). */
async function documentView(databaseUrl, id) {
  const { rows } = await withClient(databaseUrl, (c) =>
    c.query(
      `SELECT id, title, body, status, classification, department_id AS "departmentId", owner_id AS "ownerId", version, created_at AS "createdAt", updated_at AS "updatedAt" FROM documents WHERE id = $1`,
      [id],
    ),
  );
  const row = rows[0];
  return { ...row, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() };
}

module.exports = { argon2Bound, authorizationCost, documentView, naiveList };
