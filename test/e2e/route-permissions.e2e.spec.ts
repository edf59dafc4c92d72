import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AppModule } from '../../src/app.module';
import { configureApp, createFastifyAdapter } from '../../src/app.setup';
import { IS_PUBLIC } from '../../src/common/decorators/public.decorator';
import { loadConfig } from '../../src/config/app-config';
import { PAGE_ACCESS, type PageAccessRule } from '../../src/pages/page-context';
import { CHECK_POLICY, type PolicyRequirement, SIGNED_IN } from '../../src/policies/check-policy.decorator';
import { bearer, createUser, loginTokens } from '../support/auth-helpers';
import { createTestDatabase } from '../support/database';
import { testEnv, type TestApp } from '../support/test-app';
import { UNDECLARED_PREFIX, UndeclaredModule, undeclaredCalls } from '../support/undeclared.module';

/**
 * DESIGN.md house style 11: every route of the app with its access rule, compared with a committed
 * snapshot. Any difference is a security change and must be reviewed: the file is never rewritten
 * by CI. To accept a reviewed change locally: UPDATE_ROUTE_PERMISSIONS=1 npx jest route-permissions
 */
const SNAPSHOT = join(__dirname, '__snapshots__', 'route-permissions.json');
const NONE = 'NONE (fails closed)';
const SIGNED_IN_PAGE = 'signed-in page (PageGuard: cookie session, else 303 /login)';
const OUTSIDE_NEST = 'public (outside Nest: no guard runs)';
const OIDC_PROTOCOL = 'public (OpenID Connect provider: oidc-provider authenticates clients and users itself)';
const PROBLEM_JSON = /^application\/problem\+json/;

type RouteTable = Record<string, string>;

interface BootedApp extends TestApp {
  /** Every route Fastify registered, as `METHOD /path` (HEAD twins of GET routes left out). */
  fastifyRoutes: string[];
}

/**
 * createTestApp's steps, plus an `onRoute` hook installed before anything is registered, so the
 * route table is Fastify's own (Nest controllers and whatever plugins add, e.g. Swagger UI).
 */
async function bootWithRouteTable(): Promise<BootedApp> {
  const database = await createTestDatabase();
  const config = loadConfig(testEnv(database.url));
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.register(config), UndeclaredModule] }).compile();
  const adapter = createFastifyAdapter(config);
  const seen: { method: string; url: string }[] = [];
  adapter.getInstance().addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) seen.push({ method: String(method).toUpperCase(), url: route.url });
  });
  const app = moduleRef.createNestApplication<NestFastifyApplication>(adapter, { bufferLogs: true });
  await configureApp(app, config);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const gets = new Set(seen.filter((r) => r.method === 'GET').map((r) => r.url));
  const fastifyRoutes = [...new Set(seen.filter((r) => !(r.method === 'HEAD' && gets.has(r.url))).map((r) => `${r.method} ${r.url}`))];
  return {
    app,
    config,
    database,
    fastifyRoutes,
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}

const joinPath = (...parts: string[]) => `/${parts.flatMap((p) => p.split('/')).filter(Boolean).join('/')}`;

/** The access rule exactly as AuthenticationGuard + PoliciesGuard read it (handler overrides class). */
function accessRule(reflector: Reflector, handler: () => unknown, controller: object): string {
  const targets = [handler, controller as () => unknown];
  if (reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) {
    // A hosted page past the global guards: PageGuard demands the cookie session (else /login).
    return reflector.getAllAndOverride<PageAccessRule | undefined>(PAGE_ACCESS, targets) === 'signed-in' ? SIGNED_IN_PAGE : 'public';
  }
  const requirement = reflector.getAllAndOverride<PolicyRequirement | undefined>(CHECK_POLICY, targets);
  if (requirement) return `${requirement.action} ${requirement.subject}`;
  if (reflector.getAllAndOverride<boolean>(SIGNED_IN, targets)) return 'signed-in';
  return NONE;
}

/** Every Nest route handler (all modules, all controllers) with its rule, keyed `METHOD /path`. */
function nestRoutes(app: NestFastifyApplication, skipModules: unknown[] = []): RouteTable {
  const reflector = new Reflector();
  const scanner = new MetadataScanner();
  const table: RouteTable = {};
  for (const module of app.get(ModulesContainer).values()) {
    if (skipModules.includes(module.metatype)) continue;
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!controller) continue;
      const prefixes = [Reflect.getMetadata(PATH_METADATA, controller) ?? ''].flat() as string[];
      for (const name of scanner.getAllMethodNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, () => unknown>)[name];
        const paths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        if (paths === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        for (const prefix of prefixes) {
          for (const path of [paths].flat()) table[`${method} ${joinPath(prefix, path)}`] = accessRule(reflector, handler, controller);
        }
      }
    }
  }
  return table;
}

const sorted = (table: RouteTable): RouteTable => Object.fromEntries(Object.entries(table).sort(([a], [b]) => a.localeCompare(b)));

function describeDiff(committed: RouteTable, current: RouteTable): string[] {
  const lines: string[] = [];
  for (const key of new Set([...Object.keys(committed), ...Object.keys(current)])) {
    if (!(key in current)) lines.push(`- ${key} → ${committed[key]}   (route removed)`);
    else if (!(key in committed)) lines.push(`+ ${key} → ${current[key]}   (new route)`);
    else if (committed[key] !== current[key]) lines.push(`~ ${key}: ${committed[key]} → ${current[key]}   (access rule changed)`);
  }
  return lines.sort((a, b) => a.slice(2).localeCompare(b.slice(2)));
}

/** PUBLIC in API.md (those that exist in this build), plus health, docs, metrics and well-known. */
const API_MD_PUBLIC = [
  'POST /api/v1/auth/register',
  'POST /api/v1/auth/verify-email',
  'POST /api/v1/auth/confirm-email',
  'POST /api/v1/auth/resend-verification',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/mfa/verify',
  'POST /api/v1/auth/refresh',
  'POST /api/v1/auth/password/forgot',
  'POST /api/v1/auth/password/reset',
  'GET /api/v1/auth/google',
  'GET /api/v1/auth/google/callback',
  'POST /api/v1/auth/oauth/exchange',
  'POST /api/v1/auth/passkeys/options',
  'POST /api/v1/auth/passkeys/verify',
  'GET /health/live',
  'GET /health/ready',
  'GET /metrics',
  'GET /.well-known/jwks.json',
  'GET /.well-known/openid-configuration',
];
/**
 * The hosted pages (src/pages): public to the two global guards; PageGuard then requires the
 * cookie session on the signed-in ones (a redirect to /login) and a CSRF token on every POST.
 */
const HOSTED_PAGES = [
  ...['/login', '/login/mfa', '/register', '/verify-email', '/confirm-email', '/forgot-password', '/reset-password'].flatMap((path) => [`GET ${path}`, `POST ${path}`]),
  'GET /register/sent',
  'GET /assets/brand.css',
];
const SIGNED_IN_PAGES = [
  'POST /logout',
  'GET /account',
  ...['profile', 'password', 'email', 'sessions/end', 'sessions/end-others', 'mfa/setup', 'mfa/enable', 'mfa/recovery-codes', 'mfa/disable'].map((path) => `POST /account/${path}`),
];
const isDocsRoute = (key: string) => /^GET \/docs(\/|-json$|-yaml$|$)/.test(key);
/** @fastify/static's route for views' stylesheets and scripts (outside Nest, like Swagger UI). */
const isAssetsRoute = (key: string) => key === 'GET /assets/*';
/** The provider's routes (src/oidc/oidc-routes.ts): plain Fastify routes by design, under /oidc only. */
const isOidcRoute = (key: string) => /^[A-Z]+ \/oidc(\/|$)/.test(key);

describe('Route permissions (ASVS 8.2.1; DESIGN.md "Deny by default, twice", house style 11)', () => {
  let t: BootedApp;
  let current: RouteTable;
  beforeAll(async () => {
    t = await bootWithRouteTable();
    const nest = nestRoutes(t.app, [UndeclaredModule]);
    const undeclared = `/${UNDECLARED_PREFIX}/`;
    current = sorted(
      Object.fromEntries(
        t.fastifyRoutes
          .filter((key) => !key.split(' ')[1].startsWith(undeclared))
          .map((key) => [key, nest[key] ?? (isOidcRoute(key) ? OIDC_PROTOCOL : OUTSIDE_NEST)]),
      ),
    );
  });
  afterAll(() => t?.close());

  describe('8.2.1: a route with neither @CheckPolicy nor @SignedIn fails closed', () => {
    beforeEach(() => {
      undeclaredCalls.count = 0;
    });

    it('8.2.1: an authenticated admin (manage all) gets 403 on both undeclared routes; the handler never runs', async () => {
      const admin = await createUser(t, { roles: ['admin'] });
      const { accessToken } = await loginTokens(t, admin);
      // The admin's token is good: a declared route answers.
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/roles', headers: bearer(accessToken) })).statusCode).toBe(200);
      const read = await t.app.inject({ method: 'GET', url: `/${UNDECLARED_PREFIX}/read`, headers: bearer(accessToken) });
      expect(read.statusCode).toBe(403);
      expect(read.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(read.json()).toMatchObject({ type: 'about:blank', status: 403, detail: 'This route declares no access rule' });
      const write = await t.app.inject({ method: 'POST', url: `/${UNDECLARED_PREFIX}/write`, headers: bearer(accessToken), payload: { x: 1 } });
      expect(write.statusCode).toBe(403);
      expect(write.body).not.toContain('reached');
      expect(undeclaredCalls.count).toBe(0);
    });

    it('8.2.1: a viewer gets 403 and an anonymous caller 401 (authentication still comes first)', async () => {
      const viewer = await createUser(t);
      const { accessToken } = await loginTokens(t, viewer);
      expect((await t.app.inject({ method: 'GET', url: `/${UNDECLARED_PREFIX}/read`, headers: bearer(accessToken) })).statusCode).toBe(403);
      const anonymous = await t.app.inject({ method: 'GET', url: `/${UNDECLARED_PREFIX}/read` });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.headers['www-authenticate']).toBe('Bearer');
      expect(undeclaredCalls.count).toBe(0);
    });

    it('8.2.1: the route walker classifies the undeclared routes as failing closed', () => {
      const all = nestRoutes(t.app);
      expect(all[`GET /${UNDECLARED_PREFIX}/read`]).toBe(NONE);
      expect(all[`POST /${UNDECLARED_PREFIX}/write`]).toBe(NONE);
    });
  });

  describe('8.2.1: the permission snapshot', () => {
    it('8.2.1: every Nest route is in Fastify\'s route table, and only Swagger UI, the static assets and the OIDC provider (under /oidc) live outside Nest', () => {
      const nest = nestRoutes(t.app, [UndeclaredModule]);
      expect(Object.keys(nest).length).toBeGreaterThan(40);
      for (const key of Object.keys(nest)) expect(t.fastifyRoutes).toContain(key);
      const outside = Object.entries(current).filter(([, rule]) => rule === OUTSIDE_NEST).map(([key]) => key);
      expect(outside.length).toBeGreaterThan(0);
      expect(outside.filter((key) => !isDocsRoute(key) && !isAssetsRoute(key))).toEqual([]);
      const oidc = Object.entries(current).filter(([, rule]) => rule === OIDC_PROTOCOL).map(([key]) => key);
      expect(oidc).toEqual(expect.arrayContaining(['GET /oidc/*', 'POST /oidc/*', 'GET /oidc/interaction/:uid']));
      expect(oidc.filter((key) => !isOidcRoute(key))).toEqual([]);
    });

    it('8.2.1: no product route lacks an access rule', () => {
      expect(Object.entries(current).filter(([, rule]) => rule === NONE)).toEqual([]);
    });

    it('8.2.1: public routes are exactly API.md\'s PUBLIC ones plus health, docs, metrics and well-known', () => {
      const open = Object.entries(current)
        .filter(([, rule]) => rule === 'public' || rule === OUTSIDE_NEST)
        .map(([key]) => key);
      expect(open.filter((key) => !API_MD_PUBLIC.includes(key) && !HOSTED_PAGES.includes(key) && !isDocsRoute(key) && !isAssetsRoute(key))).toEqual([]);
      // Every API.md PUBLIC route this build has is really public (and not, say, signed-in).
      for (const key of API_MD_PUBLIC.filter((k) => k in current)) expect([key, current[key]]).toEqual([key, 'public']);
      const pages = Object.entries(current).filter(([, rule]) => rule === SIGNED_IN_PAGE).map(([key]) => key);
      expect(pages.sort()).toEqual([...SIGNED_IN_PAGES].sort());
      for (const key of ['GET /health/live', 'GET /health/ready', 'GET /metrics', 'GET /.well-known/jwks.json', 'GET /docs-json']) expect(open).toContain(key);
    });

    it('8.2.1: admin routes under /users/:id, /roles, /departments, /documents and /audit-events all need a policy on the right subject', () => {
      const expectations: [RegExp, RegExp][] = [
        [/^\w+ \/api\/v1\/users\/:id(\/|$)/, /^(read|update|delete) (User|Session)$/],
        [/^\w+ \/api\/v1\/users\/:id\/sessions/, / Session$/],
        [/^\w+ \/api\/v1\/users\/:id\/unlock$/, /^update User$/],
        [/^\w+ \/api\/v1\/users$/, /^(read|create) User$/],
        [/^\w+ \/api\/v1\/roles/, / Role$/],
        [/^\w+ \/api\/v1\/departments/, / Department$/],
        [/^\w+ \/api\/v1\/documents/, / Document$/],
        [/^\w+ \/api\/v1\/audit-events/, /^read AuditEvent$/],
        [/^\w+ \/api\/v1\/clients/, / Client$/],
        [/^\w+ \/api\/v1\/resource-servers/, / ResourceServer$/],
      ];
      for (const [route, rule] of expectations) {
        const matching = Object.entries(current).filter(([key]) => route.test(key));
        expect(matching.length).toBeGreaterThan(0);
        for (const [key, value] of matching) expect([key, value]).toEqual([key, expect.stringMatching(rule)]);
      }
      // Self-service routes are the only signed-in ones.
      const signedIn = Object.entries(current).filter(([, rule]) => rule === 'signed-in').map(([key]) => key);
      for (const key of signedIn) expect(key).toMatch(/^\w+ \/api\/v1\/(users\/me|auth|policies\/(me|check))(\/|$)/);
    });

    it('8.2.1: the route → access-rule table equals the committed snapshot (any diff is a security change)', () => {
      const update = process.env.UPDATE_ROUTE_PERMISSIONS === '1' && !process.env.CI;
      const body = `${JSON.stringify(current, null, 2)}\n`;
      if (!existsSync(SNAPSHOT) || update) {
        if (process.env.CI) throw new Error(`${SNAPSHOT} is missing: generate it locally, review it against API.md and commit it`);
        mkdirSync(dirname(SNAPSHOT), { recursive: true });
        writeFileSync(SNAPSHOT, body);
        if (!update) throw new Error(`Wrote ${SNAPSHOT} (${Object.keys(current).length} routes): review it against API.md, commit it and run again`);
        return;
      }
      const committed = JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as RouteTable;
      const diff = describeDiff(committed, current);
      if (diff.length) {
        throw new Error(
          `The routes' access rules differ from ${SNAPSHOT} — a security change to review:\n  ${diff.join('\n  ')}\n` +
            'If intended: UPDATE_ROUTE_PERMISSIONS=1 npx jest route-permissions, review the file diff and commit it.',
        );
      }
      expect(current).toEqual(committed);
    });
  });
});
