'use strict';
// Benchmark data: departments and users through the API (as an operator would create them), then
// 100 000 documents straight into PostgreSQL with one INSERT … SELECT generate_series.
const { withClient } = require('./environment');

const PASSWORD = 'correct horse battery staple';
const DEPARTMENTS = 20;
const DOCUMENTS = 100_000;
const ADMIN = { email: 'bench-admin@bench.example.com', password: PASSWORD };

async function api(baseUrl, method, path, { body, token, expect = [200, 201] } = {}) {
  const response = await globalThis.fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!expect.includes(response.status)) throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : undefined;
}

const login = (baseUrl, email) => api(baseUrl, 'POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } });

/** A browser session (cookie mode, as the hosted pages use): the `Cookie` header value. */
async function cookieSession(baseUrl, email) {
  const response = await globalThis.fetch(`${baseUrl}/api/v1/auth/login?mode=cookie`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  const cookie = (response.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).find((c) => c.startsWith('__Host-sid='));
  if (response.status !== 200 || !cookie) throw new Error(`cookie-mode login answered ${response.status} without __Host-sid`);
  return cookie;
}

/** Runs `tasks` (functions returning promises) `width` at a time, keeping their order. */
async function inBatches(tasks, width) {
  const results = [];
  for (let i = 0; i < tasks.length; i += width) results.push(...(await Promise.all(tasks.slice(i, i + width).map((task) => task()))));
  return results;
}

/**
 * Status and classification are derived from different digits of the row number than the
 * department, so every department gets the same mix: 50 % published, 25 % draft, 25 % archived;
 * 20 % public, 60 % internal, 20 % confidential. A viewer therefore reads ~2 000 of its
 * department's 5 000 documents, a manager all 5 000.
 */
const INSERT_DOCUMENTS = `
  INSERT INTO documents (id, title, body, status, classification, department_id, owner_id, version, created_at, updated_at)
  SELECT gen_random_uuid(),
         'Benchmark document ' || g,
         'Quarterly figures, minutes and follow-ups for item ' || g || '. ' || repeat('Lorem ipsum dolor sit amet. ', 6),
         (ARRAY['published', 'draft', 'published', 'archived'])[1 + (g / $3) % 4],
         (ARRAY['public', 'internal', 'internal', 'confidential', 'internal'])[1 + (g / ($3 * 4)) % 5],
         ($1::uuid[])[1 + g % $3],
         CASE WHEN g % 7 = 0 THEN $4::uuid ELSE ($2::uuid[])[1 + g % $3] END,
         1,
         now() - g * interval '1 second',
         now() - g * interval '1 second'
    FROM generate_series(1, $5::int) AS g`;

/**
 * Seeds and signs in. Returns the tokens and ids the scenarios need; `viewer` and `manager` both
 * belong to the first department.
 */
async function seed(baseUrl, databaseUrl) {
  const admin = await login(baseUrl, ADMIN.email);
  const token = admin.accessToken;
  const stamp = Date.now().toString(36);
  const departments = await inBatches(
    Array.from({ length: DEPARTMENTS }, (_, i) => () => api(baseUrl, 'POST', '/api/v1/departments', { token, body: { name: `Bench department ${String(i).padStart(2, '0')} ${stamp}` } })),
    4,
  );
  const departmentIds = departments.map((d) => d.id);
  const createUser = (email, role, departmentId) => () =>
    api(baseUrl, 'POST', '/api/v1/users', { token, body: { email, displayName: email.split('@')[0], roles: [role], departmentId, password: PASSWORD } });
  // Every user costs one Argon2 hash on the server; two at a time keeps both cores busy.
  const viewers = await inBatches(
    departmentIds.map((id, i) => createUser(`viewer${String(i).padStart(2, '0')}@bench.example.com`, 'viewer', id)),
    2,
  );
  const manager = await createUser('manager00@bench.example.com', 'manager', departmentIds[0])();

  const started = Date.now();
  const readable = await withClient(databaseUrl, async (c) => {
    await c.query(INSERT_DOCUMENTS, [departmentIds, viewers.map((v) => v.id), DEPARTMENTS, manager.id, DOCUMENTS]);
    // The state autovacuum would leave: fresh statistics and a visibility map. Without it the
    // lists' count(*) visits the heap (tens of ms) until autovacuum happens to run mid-benchmark.
    await c.query('VACUUM (ANALYZE) documents');
    const rows = await c.query(
      `SELECT id FROM documents WHERE department_id = $1 AND status = 'published' AND classification <> 'confidential' ORDER BY random() LIMIT 1000`,
      [departmentIds[0]],
    );
    const counts = await c.query(
      `SELECT count(*) FILTER (WHERE status = 'published' AND classification <> 'confidential')::int AS viewer, count(*)::int AS manager FROM documents WHERE department_id = $1`,
      [departmentIds[0]],
    );
    return { ids: rows.rows.map((r) => r.id), counts: counts.rows[0] };
  });
  const seedSeconds = (Date.now() - started) / 1000;

  const viewerSession = await login(baseUrl, viewers[0].email);
  const managerSession = await login(baseUrl, manager.email);
  return {
    password: PASSWORD,
    documents: DOCUMENTS,
    seedSeconds,
    departmentIds,
    loginPool: viewers.map((v) => v.email),
    viewer: { id: viewers[0].id, departmentId: departmentIds[0], token: viewerSession.accessToken },
    manager: { id: manager.id, departmentId: departmentIds[0], token: managerSession.accessToken },
    readableIds: readable.ids,
    readable: readable.counts,
  };
}

/**
 * One request of each kind before any load, so that a broken route fails the run with its answer
 * instead of producing a table of zeros; the lists must also return exactly what SQL says the
 * caller may read.
 */
async function preflight(baseUrl, data) {
  const viewer = data.viewer.token;
  await api(baseUrl, 'GET', '/health/live');
  await api(baseUrl, 'GET', '/api/v1/auth/whoami', { token: viewer });
  await api(baseUrl, 'GET', '/api/v1/users/me', { token: viewer });
  await api(baseUrl, 'GET', `/api/v1/documents/${data.readableIds[0]}`, { token: viewer });
  for (const [who, expected] of [['viewer', data.readable.viewer], ['manager', data.readable.manager]]) {
    const page = await api(baseUrl, 'GET', '/api/v1/documents?limit=20', { token: data[who].token });
    if (page.total !== expected || page.items.length !== 20) throw new Error(`the ${who}'s list has ${page.total} documents (${page.items.length} on the page); SQL says ${expected}`);
  }
  const session = await login(baseUrl, data.loginPool[1]);
  await api(baseUrl, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: session.refreshToken } });
}

module.exports = { ADMIN, cookieSession, login, preflight, seed };
