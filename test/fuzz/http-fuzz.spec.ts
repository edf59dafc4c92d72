import fc from 'fast-check';
import { createTestApp, type TestApp } from '../support/test-app';
import { bearerIdentity, cookieIdentity, forgedIdentities, type Identity } from './identities';
import { NOWHERE, nullBodies } from './bodies';
import { seedFuzzWorld } from './fixtures';
import { accountFingerprint, ANONYMOUS_ONLY, COUNTED_ALWAYS, snapshot, SUMMED_ALWAYS, violationsOf } from './oracle';
import { type FuzzRoute, type OpenApiDocument, routesOf } from './openapi-routes';
import { type FuzzContext, type FuzzRequest, requestArbitrary } from './requests';
import { Budget, FindingLog, fuzz, FUZZ_BUDGET_MS, FUZZ_MIN_RUNS, FUZZ_ROUTE, FUZZ_SEED } from './runner';

/**
 * Every route of the served OpenAPI document gets hostile bodies, query strings, path ids and
 * headers (fast-check, fixed seed), first from callers with no or forged credentials, then from a
 * signed-in viewer (bearer and cookie) and an admin (so validation is reached behind every
 * policy). No answer may be a 5xx, every error is problem+json without internals, input that
 * surely breaks the schema is refused with 4xx when the caller may otherwise do the request, and
 * the rows the requests must not touch are the same afterwards (see oracle.ts for which and why).
 */

/** Served but not in the document: operations endpoints, the document itself, and no route at all. */
const UNDOCUMENTED: FuzzRoute[] = [
  { key: 'GET /metrics', method: 'GET', path: '/metrics', pathParams: [], query: [], isPublic: true },
  { key: 'GET /docs-json', method: 'GET', path: '/docs-json', pathParams: [], query: [], isPublic: true },
  { key: 'POST /api/v1/{nothing}', method: 'POST', path: '/api/v1/{nothing}', pathParams: ['nothing'], query: [], isPublic: true },
];

/** Requests that end or rotate the caller's own session when they succeed. */
const SESSION_ENDING = new Set(['POST /api/v1/auth/logout', 'POST /api/v1/auth/logout-all', 'DELETE /api/v1/auth/sessions/{id}', 'POST /api/v1/auth/refresh', 'POST /api/v1/users/me/password']);
/** Routes that check a password or code again: a wrong one is a 401 for a signed-in caller. */
const REAUTHENTICATING = new Set(['POST /api/v1/auth/mfa/totp/setup', 'POST /api/v1/auth/mfa/totp/disable', 'POST /api/v1/users/me/password', 'POST /api/v1/auth/mfa/recovery-codes', 'POST /api/v1/auth/mfa/totp/enable']);
/** The minimum runs per route are not bounded by the budget: on a crowded machine they take longer. */
const SLACK_MS = 120_000;

describe('HTTP fuzzing: every OpenAPI route with hostile input', () => {
  let t: TestApp;
  let routes: FuzzRoute[];
  let ctx: FuzzContext;
  let victimId: string;
  let adminToken: string;
  let signedIn: Identity[];
  const log = new FindingLog();
  const expectedRefusals = new Map<string, number>();
  let renewals = 0;

  async function send(route: FuzzRoute, identity: Identity, req: FuzzRequest): Promise<void> {
    const started = Date.now();
    const res = await t.app.inject({ method: req.method as 'GET', url: req.url, headers: { ...req.headers, ...identity.headers() }, payload: typeof req.payload === 'function' ? req.payload() : req.payload });
    log.count(route.key, res.statusCode);
    if (process.env.FUZZ_VERBOSE && Date.now() - started > 100) process.stdout.write(`slow ${Date.now() - started} ms: ${route.key} as ${identity.name} → ${res.statusCode} | ${req.notes.join(' | ').slice(0, 200)}\n`);
    // A signed-in caller's 401 can be a failed re-authentication (wrong current password), not a refused credential.
    const violations = violationsOf(res, { protectedRoute: !route.isPublic && !identity.live, sentRequestId: req.headers['x-request-id'] });
    // Any refusal will do (a built-in role's 409 may come before its rules' 400); acceptance will not.
    if (req.invalid && (identity.admin || route.isPublic)) {
      if (res.statusCode < 400) violations.push(`accepted input that breaks the schema (status ${res.statusCode})`);
      else expectedRefusals.set(route.key, (expectedRefusals.get(route.key) ?? 0) + 1);
    }
    for (const violation of violations) {
      log.add({
        where: `${route.key} as ${identity.name}`,
        violation,
        request: `${req.method} ${req.url.slice(0, 200)} | ${req.notes.join(' | ').slice(0, 400)}`,
        response: `${res.statusCode} ${String(res.headers['content-type'])} ${res.body.slice(0, 300)}`,
      });
    }
    // A signed-in caller is only refused with 401 where it re-authenticates; anything else means
    // its session died under the fuzzer and the rest of its requests would test nothing.
    if (identity.live && res.statusCode === 401 && !route.isPublic && !REAUTHENTICATING.has(route.key)) {
      log.add({ where: `${route.key} as ${identity.name}`, violation: 'signed-in caller refused with 401', request: `${req.method} ${req.url.slice(0, 200)}`, response: res.body.slice(0, 300) });
    }
    if (identity.live && SESSION_ENDING.has(route.key) && res.statusCode < 400) {
      // logout-all (and a password change) as the cookie viewer also end the bearer viewer's session.
      const allOfUser = route.key.endsWith('/logout-all') || route.key.endsWith('/me/password');
      const renewing = Date.now();
      for (const other of signedIn) if (other === identity || (allOfUser && other.userId === identity.userId)) await other.renew();
      renewals += Date.now() - renewing;
    }
  }

  const victimCredentials = () => accountFingerprint(t.database.url, victimId);

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        // Rate limits would answer 429 before validation runs (test-app sets them this high
        // already; the fuzz depends on it). raw-http-fuzz.spec.ts checks that 429s are problems.
        THROTTLE_LIMIT: '1000000',
        THROTTLE_AUTH_LIMIT: '1000000',
        // A fuzzed re-authentication (TOTP setup, password change) counts toward the lockout;
        // the signed-in callers must still be able to sign in again after logout.
        LOCKOUT_THRESHOLD: '1000',
        GOOGLE_CLIENT_ID: 'fuzz-client',
        GOOGLE_CLIENT_SECRET: 'fuzz-secret',
        GOOGLE_CALLBACK_URL: 'http://localhost:3000/api/v1/auth/google/callback',
        GOOGLE_AUTHORIZATION_URL: 'http://127.0.0.1:9/authorize',
        GOOGLE_TOKEN_URL: 'http://127.0.0.1:9/token',
        GOOGLE_USERINFO_URL: 'http://127.0.0.1:9/userinfo',
      },
    });
    const world = await seedFuzzWorld(t);
    ({ ctx, adminToken } = world);
    victimId = world.victim.id;
    signedIn = [bearerIdentity(t, 'viewer', world.viewer), cookieIdentity(t, 'viewer-cookie', world.viewer), bearerIdentity(t, 'admin', world.admin, true)];
    for (const identity of signedIn) await identity.renew();
    const doc = await t.app.inject({ method: 'GET', url: '/docs-json' });
    routes = [...routesOf(doc.json() as OpenApiDocument), ...UNDOCUMENTED].filter((r) => !FUZZ_ROUTE || r.key.includes(FUZZ_ROUTE));
  });

  afterAll(async () => {
    if (process.env.FUZZ_VERBOSE) process.stdout.write(`fuzz seed ${FUZZ_SEED}, ${renewals} ms signing in again\n${log.histogram()}\n`);
    await t?.close();
  });

  it('walks every documented route', () => {
    expect(routes.length).toBeGreaterThanOrEqual(FUZZ_ROUTE ? 1 : 50);
  });

  it('anonymous and forged credentials: no 5xx, problem+json, no leaks, nothing written', async () => {
    log.startPhase();
    const tables = { counted: [...COUNTED_ALWAYS, ...ANONYMOUS_ONLY], summed: SUMMED_ALWAYS };
    const before = await snapshot(t.database.url, tables);
    const victimBefore = await victimCredentials();
    const identities = forgedIdentities(adminToken, victimId);
    const phase = new Budget(FUZZ_BUDGET_MS * 0.4);
    for (const [i, route] of routes.entries()) {
      const arbitrary = fc.tuple(fc.constantFrom(...identities), requestArbitrary(route, ctx, { onlyInvalidBodies: false, existingIds: true }));
      await fuzz(`anonymous ${route.key}`, arbitrary, phase.slice(routes.length - i), ([identity, req]) => send(route, identity, req));
    }
    const after = { findings: log.report(), rows: await snapshot(t.database.url, tables), victim: await victimCredentials() };
    expect(after).toEqual({ findings: [], rows: before, victim: victimBefore });
  }, FUZZ_BUDGET_MS * 0.4 + SLACK_MS);

  it('signed-in viewer (bearer, cookie) and admin: the same, and bad input refused behind every policy', async () => {
    log.startPhase();
    const tables = { counted: COUNTED_ALWAYS, summed: SUMMED_ALWAYS };
    const before = await snapshot(t.database.url, tables);
    const victimBefore = await victimCredentials();
    const phase = new Budget(FUZZ_BUDGET_MS * 0.6);
    for (const [i, route] of routes.entries()) {
      // The admin may do anything: it only gets input that must be refused, and its body-less
      // writes only ids that do not exist, so nothing changes; the viewer gets everything.
      const writes = route.method !== 'GET' && !route.isPublic;
      // Each run sends one request per caller, so the admin's share does not depend on luck.
      const arbitraries = signedIn.map((identity) =>
        requestArbitrary(route, ctx, { onlyInvalidBodies: !!identity.admin && writes && !!route.body, existingIds: !(identity.admin && writes && !route.body) }),
      );
      await fuzz(`signed-in ${route.key}`, fc.tuple(...arbitraries), phase.slice(routes.length - i), async (requests) => {
        for (const [k, req] of requests.entries()) await send(route, signedIn[k], req);
      }, Math.ceil(FUZZ_MIN_RUNS / 2));
    }
    const after = { findings: log.report(), rows: await snapshot(t.database.url, tables), victim: await victimCredentials() };
    expect(after).toEqual({ findings: [], rows: before, victim: victimBefore });
    // Validation was reached, not just the guards: the admin's bad bodies got 4xx refusals.
    const unreached = routes.filter((r) => r.body && !r.isPublic && !expectedRefusals.get(r.key)).map((r) => r.key);
    expect(unreached).toEqual([]);
  }, FUZZ_BUDGET_MS * 0.6 + SLACK_MS);

  it('null for each field, and for every field at once, of every body on every route: refused unless the field is nullable', async () => {
    log.startPhase();
    const tables = { counted: COUNTED_ALWAYS, summed: SUMMED_ALWAYS };
    const before = await snapshot(t.database.url, tables);
    const victimBefore = await victimCredentials();
    const admin = signedIn.find((identity) => identity.admin)!;
    let sent = 0;
    for (const route of routes.filter((r) => r.body)) {
      for (const body of nullBodies(route.body!, ctx)) {
        // A body that must be refused goes to every existing row (the 500s hid behind a found
        // record); one that may be accepted only to an id no row has, so nothing changes.
        const ids = route.pathParams.length && body.invalid ? ctx.existingIds : [NOWHERE];
        for (const id of ids) {
          const path = route.pathParams.reduce((p, name) => p.replace(`{${name}}`, id), route.path);
          await send(route, admin, { method: route.method, url: path, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body.value), notes: [`path ${path}`, ...body.notes], invalid: body.invalid });
          sent += 1;
        }
      }
    }
    expect(sent).toBeGreaterThan(FUZZ_ROUTE ? 0 : 50);
    const after = { findings: log.report(), rows: await snapshot(t.database.url, tables), victim: await victimCredentials() };
    expect(after).toEqual({ findings: [], rows: before, victim: victimBefore });
  }, SLACK_MS);
});
