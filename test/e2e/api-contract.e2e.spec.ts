import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * docs/api.md and the served OpenAPI document (/docs-json) list the same routes: every route the
 * contract names exists with that method and path, and every route the app documents is in the
 * contract (issue 11, item 8).
 *
 * Scope: the API — paths under /api/v1 and /.well-known, and /health, /metrics. Anything else
 * (hosted pages under /, the OIDC provider under /oidc, /docs itself) is out of scope here.
 *
 * How routes are read from docs/api.md: every `METHOD[/METHOD…] \`path\`` and
 * `\`METHOD path\`` in the text; a path that does not start with one of the scope prefixes is
 * relative to the section's heading prefix (`## Auth — \`/api/v1/auth\``); `:id` is `{id}`; a
 * `?query` is not part of the path; `, METHOD \`path\`` may follow in the same cell.
 */

const METHOD = '(?:GET|POST|PUT|PATCH|DELETE)';
const ROUTE = new RegExp(`(${METHOD}(?:/${METHOD})*) \`([^\`]*)\`|\`(${METHOD}) ([^\`\\s]+)\``, 'g');
const IN_SCOPE = /^\/(?:api\/v1(?:\/|$)|\.well-known\/|health\/|metrics$)/;
/** Documented in api.md but deliberately absent from OpenAPI, and why. */
const OUTSIDE_OPENAPI = new Map([['GET /metrics', 'Prometheus text with its own METRICS_TOKEN, not a JSON API operation (@ApiExcludeEndpoint)']]);

function normalise(path: string): string {
  const bare = path.split('?')[0].replace(/:(\w+)/g, '{$1}');
  return bare.length > 1 ? bare.replace(/\/$/, '') : bare;
}

function routesOfContract(markdown: string): Set<string> {
  const routes = new Set<string>();
  let prefix = '';
  for (const line of markdown.split('\n')) {
    const heading = /^#+ .*`(\/[^`]+)`/.exec(line);
    if (/^#+ /.test(line)) prefix = heading ? heading[1] : '';
    for (const m of line.matchAll(ROUTE)) {
      const methods = (m[1] ?? m[3]).split('/');
      const written = (m[2] ?? m[4]).trim();
      if (!written.startsWith('/') && !written.startsWith('?')) continue;
      const path = normalise(IN_SCOPE.test(written) || !prefix ? written : `${prefix}${written === '/' ? '' : written}`);
      if (!IN_SCOPE.test(path)) continue;
      for (const method of methods) routes.add(`${method} ${path}`);
    }
  }
  return routes;
}

describe('docs/api.md and the OpenAPI document list the same routes', () => {
  let t: TestApp;
  let openapi: Set<string>;
  let contract: Set<string>;

  beforeAll(async () => {
    t = await createTestApp();
    const doc = (await t.app.inject({ method: 'GET', url: '/docs-json' })).json<{ paths: Record<string, Record<string, unknown>> }>();
    openapi = new Set(
      Object.entries(doc.paths).flatMap(([path, operations]) => Object.keys(operations).map((verb) => `${verb.toUpperCase()} ${path}`)).filter((route) => IN_SCOPE.test(route.split(' ')[1])),
    );
    contract = routesOfContract(readFileSync(join(__dirname, '../../docs/api.md'), 'utf8'));
  });
  afterAll(() => t.close());

  it('reads each way the contract writes a route (the parser itself)', () => {
    const sample = [
      '## Auth — `/api/v1/auth`',
      '| POST `/register` PUBLIC | `{email}` | 202 |',
      '| GET `/sessions` | — | DELETE `/sessions/:id` |',
      '## Things — `/api/v1/things`',
      '| GET `/` `?q&limit` | 200 |',
      'GET `?type&actorId` → list; GET/PATCH/DELETE `/api/v1/roles/:id`; `GET /health/live` → 200.',
      '## Pages',
      '| GET `/signin` | a hosted page, out of scope |',
    ].join('\n');
    expect([...routesOfContract(sample)].sort()).toEqual([
      'DELETE /api/v1/auth/sessions/{id}',
      'DELETE /api/v1/roles/{id}',
      'GET /api/v1/auth/sessions',
      'GET /api/v1/roles/{id}',
      'GET /api/v1/things',
      'GET /health/live',
      'PATCH /api/v1/roles/{id}',
      'POST /api/v1/auth/register',
    ]);
  });

  it('reads a plausible number of routes from both (the parser did not silently miss a table)', () => {
    expect(openapi.size).toBeGreaterThanOrEqual(50);
    expect(contract.size).toBeGreaterThanOrEqual(50);
  });

  it('every route of docs/api.md is served and documented in OpenAPI with the same method and path', () => {
    expect([...contract].filter((route) => !openapi.has(route) && !OUTSIDE_OPENAPI.has(route)).sort()).toEqual([]);
  });

  it('every route of the OpenAPI document is in docs/api.md', () => {
    expect([...openapi].filter((route) => !contract.has(route)).sort()).toEqual([]);
  });

  it('the routes kept out of OpenAPI are still served', async () => {
    for (const route of OUTSIDE_OPENAPI.keys()) {
      const [method, url] = route.split(' ');
      expect((await t.app.inject({ method: method as 'GET', url })).statusCode).not.toBe(404);
    }
  });
});
