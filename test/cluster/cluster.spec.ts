import { setTimeout as sleep } from 'node:timers/promises';
import { s256 } from '../support/google-flow';
import { GoogleIdp } from '../support/google-idp';
import {
  ADMIN_EMAIL,
  call,
  clientIp,
  type ClusterDatabase,
  clusterSecrets,
  createDatabase,
  createUser,
  type Instance,
  loginTokens,
  oneShot,
  pollUntil,
  type Reply,
  type Tokens,
  startInstance,
  startRedisServer,
  STRONG_PASSWORD,
  uniqueEmail,
  withClient,
} from './cluster';

/**
 * Two production builds (A and B, `node dist/src/main.js`) on one fresh PostgreSQL database and,
 * when REDIS_URL is set, one Redis prefix. Everything goes through real HTTP. Instances trust
 * X-Forwarded-For (TRUST_PROXY=true) so that each test can be its own client address for the
 * per-IP rate limits.
 */
const AUTH_LIMIT = 6;
const LOCKOUT_THRESHOLD = 4;
const sharedRedis = process.env.REDIS_URL;

let db: ClusterDatabase;
let secrets: Record<string, string>;
let A: Instance;
let B: Instance;
let adminToken: string;
const extra: Instance[] = [];
// Google, played by a local OpenID provider in this process; both instances are its client.
const idp = new GoogleIdp();
const PUBLIC_URL = 'http://bastion-cluster.example.com';

function baseEnv(): Record<string, string | undefined> {
  return {
    DATABASE_URL: db.url,
    // One public URL for the whole cluster: it is the tokens' issuer (JWT_ISSUER defaults to it).
    APP_URL: PUBLIC_URL,
    TRUST_PROXY: 'true',
    THROTTLE_LIMIT: '1000000',
    THROTTLE_AUTH_LIMIT: String(AUTH_LIMIT),
    LOCKOUT_THRESHOLD: String(LOCKOUT_THRESHOLD),
    ...secrets,
    ...idp.env({ GOOGLE_CALLBACK_URL: `${PUBLIC_URL}/api/v1/auth/google/callback` }),
  };
}

const problemJson = (r: Reply) => r.contentType.startsWith('application/problem+json');
const describeReply = (r: Reply) => `${r.status} ${r.contentType} ${r.text.slice(0, 300)}`;

beforeAll(async () => {
  db = await createDatabase();
  secrets = clusterSecrets();
  await idp.start();
  const redis = sharedRedis ? { REDIS_URL: sharedRedis, REDIS_KEY_PREFIX: `bastion-cluster-${Date.now()}:` } : {};
  // A first: it migrates the fresh database; B then starts on the migrated schema.
  A = await startInstance('A', { ...baseEnv(), ...redis });
  B = await startInstance('B', { ...baseEnv(), ...redis });
  adminToken = (await loginTokens(A, ADMIN_EMAIL, STRONG_PASSWORD)).accessToken;
}, 180_000);

afterAll(async () => {
  await Promise.all([A, B, ...extra].filter(Boolean).map((i) => i.stop()));
  await db?.drop();
  await idp.stop();
}, 60_000);

describe('two instances behave as one', () => {
  it('a login on A is accepted on B, and a logout on A is refused on B within 1 s', async () => {
    const email = uniqueEmail('logout');
    await createUser(A, adminToken, email, ['viewer']);
    const tokens = await loginTokens(A, email, STRONG_PASSWORD);

    const onB = await call(B, 'GET', '/api/v1/auth/whoami', { token: tokens.accessToken });
    expect(onB.status).toBe(200);
    expect((onB.body as { amr: string[] }).amr).toEqual(['pwd']);

    const logout = await call(A, 'POST', '/api/v1/auth/logout', { token: tokens.accessToken });
    expect(logout.status).toBeLessThan(300);
    const elapsed = await pollUntil(async () => (await call(B, 'GET', '/api/v1/auth/whoami', { token: tokens.accessToken })).status === 401, 3000, 'B refuses');
    expect(elapsed).toBeLessThan(1000);
  });

  it('a role change made on A is enforced on B within 1 s', async () => {
    const email = uniqueEmail('promoted');
    const id = await createUser(A, adminToken, email, ['viewer']);
    const { accessToken } = await loginTokens(B, email, STRONG_PASSWORD);

    const before = await call(B, 'GET', '/api/v1/users', { token: accessToken });
    expect(before.status).toBe(403);

    const patch = await call(A, 'PATCH', `/api/v1/users/${id}`, { token: adminToken, body: { roles: ['admin'] } });
    expect(patch.status).toBe(200);
    expect((patch.body as { roles: string[] }).roles).toEqual(['admin']);
    const elapsed = await pollUntil(async () => (await call(B, 'GET', '/api/v1/users', { token: accessToken })).status === 200, 3000, 'B grants');
    expect(elapsed).toBeLessThan(1000);
    const whoami = await call(B, 'GET', '/api/v1/auth/whoami', { token: accessToken });
    expect((whoami.body as { roles: string[] }).roles).toEqual(['admin']);
  });

  it('the same refresh token presented to A and B at once: both get pairs of the same session, no theft verdict', async () => {
    const email = uniqueEmail('refresh');
    await createUser(A, adminToken, email, ['viewer']);
    const tokens = await loginTokens(A, email, STRONG_PASSWORD);
    const sid = (await call(A, 'GET', '/api/v1/auth/whoami', { token: tokens.accessToken })).body as { sessionId: string };

    const ip = clientIp();
    const [ra, rb] = await Promise.all([
      call(A, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: tokens.refreshToken }, ip }),
      call(B, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: tokens.refreshToken }, ip }),
    ]);
    expect([ra.status, rb.status]).toEqual([200, 200]);
    const pa = ra.body as { accessToken: string; refreshToken: string };
    const pb = rb.body as { accessToken: string; refreshToken: string };
    expect(pa.refreshToken).not.toBe(pb.refreshToken);

    // Both new access tokens work on both instances and carry the original session id: not revoked.
    for (const instance of [A, B]) {
      for (const pair of [pa, pb]) {
        const who = await call(instance, 'GET', '/api/v1/auth/whoami', { token: pair.accessToken });
        expect(who.status).toBe(200);
        expect((who.body as { sessionId: string }).sessionId).toBe(sid.sessionId);
      }
    }
    // Still valid after the propagation window (a false theft verdict would revoke within 1 s).
    await sleep(1200);
    for (const instance of [A, B]) {
      expect((await call(instance, 'GET', '/api/v1/auth/whoami', { token: pa.accessToken })).status).toBe(200);
      expect((await call(instance, 'GET', '/api/v1/auth/whoami', { token: pb.accessToken })).status).toBe(200);
    }
  });

  it('a Google flow started on A finishes on B (and one started on B on A): PKCE verifier and browser binding travel through the shared database; the state is single use on both', async () => {
    for (const [start, finish] of [
      [A, B],
      [B, A],
    ] as const) {
      const email = uniqueEmail(`google-${start.name}`);
      idp.claims = { sub: `google-sub-${email}`, email, email_verified: true, name: 'Cluster Google User' };
      const begin = await call(start, 'GET', '/api/v1/auth/google', { ip: clientIp() });
      expect(begin.status).toBe(302);
      const authorize = new URL(begin.headers.get('location')!);
      expect(`${authorize.origin}${authorize.pathname}`).toBe(`${idp.url}/authorize`);
      expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
      const challenge = authorize.searchParams.get('code_challenge')!;
      const cookie = begin.headers.getSetCookie().find((c) => c.startsWith('bastion_oauth='))!.split(';')[0];
      expect(cookie).toBeTruthy();

      // The browser at Google, sent back to the callback — which the load balancer gives to the other instance.
      const atGoogle = await fetch(authorize, { redirect: 'manual' });
      expect(atGoogle.status).toBe(302);
      const back = new URL(atGoogle.headers.get('location')!);
      expect(`${back.origin}${back.pathname}`).toBe(`${PUBLIC_URL}/api/v1/auth/google/callback`);
      const tokenRequestsBefore = idp.tokenRequests.length;
      const done = await call(finish, 'GET', `/api/v1/auth/google/callback${back.search}`, { headers: { cookie }, ip: clientIp() });
      expect({ status: done.status, body: done.body }).toMatchObject({ status: 200, body: { accessToken: expect.any(String), refreshToken: expect.any(String) } });

      // The finishing instance redeemed the code with the verifier the starting instance made.
      const [tokenRequest] = idp.tokenRequests.slice(tokenRequestsBefore);
      expect(tokenRequest.body).toMatchObject({ grant_type: 'authorization_code', code: back.searchParams.get('code') });
      expect(s256(tokenRequest.body.code_verifier)).toBe(challenge);

      // Used: the same callback is refused on either instance, and Google is not asked again.
      for (const instance of [start, finish]) {
        const replay = await call(instance, 'GET', `/api/v1/auth/google/callback${back.search}`, { headers: { cookie }, ip: clientIp() });
        expect(replay.status).toBe(400);
        expect(problemJson(replay)).toBe(true);
      }
      expect(idp.tokenRequests.length).toBe(tokenRequestsBefore + 1);

      // Signed in, on both instances.
      const { accessToken } = done.body as Tokens;
      for (const instance of [start, finish]) {
        const who = await call(instance, 'GET', '/api/v1/auth/whoami', { token: accessToken });
        expect(who.status).toBe(200);
        expect((who.body as { amr: string[] }).amr).toEqual(['google']);
      }
    }
  });

  it(`lockout is counted across both: ${LOCKOUT_THRESHOLD} failures split over A and B lock the account, ${LOCKOUT_THRESHOLD - 1} do not`, async () => {
    const wrong = (instance: Instance, email: string) =>
      call(instance, 'POST', '/api/v1/auth/login', { body: { email, password: 'wrong horse battery staple' }, ip: clientIp() });
    const right = (instance: Instance, email: string) =>
      call(instance, 'POST', '/api/v1/auth/login', { body: { email, password: STRONG_PASSWORD }, ip: clientIp() });

    // One short of the threshold (A, B, A): the right password still works.
    const almost = uniqueEmail('almost');
    await createUser(A, adminToken, almost, ['viewer']);
    for (const instance of [A, B, A]) expect((await wrong(instance, almost)).status).toBe(401);
    expect((await right(B, almost)).status).toBe(200);

    // The threshold (A, B, A, B): locked on both instances.
    const locked = uniqueEmail('locked');
    await createUser(A, adminToken, locked, ['viewer']);
    for (const instance of [A, B, A, B]) expect((await wrong(instance, locked)).status).toBe(401);
    const onA = await right(A, locked);
    const onB = await right(B, locked);
    expect(onA.status).toBe(401);
    expect(onB.status).toBe(401);
    expect(problemJson(onA)).toBe(true);
  });

  if (sharedRedis) {
    it(`rate limits are counted across both (shared Redis): ${AUTH_LIMIT} auth requests split over A and B, the next is 429 on either`, async () => {
      const ip = clientIp();
      const attempt = (instance: Instance) =>
        call(instance, 'POST', '/api/v1/auth/login', { body: { email: uniqueEmail('nobody'), password: 'not the password at all' }, ip });
      const statuses: number[] = [];
      for (let i = 0; i < AUTH_LIMIT; i++) statuses.push((await attempt(i % 2 === 0 ? A : B)).status);
      expect(statuses).toEqual(Array(AUTH_LIMIT).fill(401));
      const limitedA = await attempt(A);
      const limitedB = await attempt(B);
      expect(limitedA.status).toBe(429);
      expect(limitedB.status).toBe(429);
      expect(problemJson(limitedB)).toBe(true);
      // Another client address is not affected.
      expect((await call(B, 'POST', '/api/v1/auth/login', { body: { email: uniqueEmail('nobody'), password: 'x'.repeat(12) }, ip: clientIp() })).status).toBe(401);
    });
  } else {
    it(`rate limits are counted per instance without Redis: ${AUTH_LIMIT} per instance, not ${AUTH_LIMIT} in all`, async () => {
      const ip = clientIp();
      const attempt = (instance: Instance) =>
        call(instance, 'POST', '/api/v1/auth/login', { body: { email: uniqueEmail('nobody'), password: 'not the password at all' }, ip });
      const statuses: number[] = [];
      for (let i = 0; i < AUTH_LIMIT + 1; i++) statuses.push((await attempt(i % 2 === 0 ? A : B)).status);
      expect(statuses).toEqual(Array(AUTH_LIMIT + 1).fill(401));
      // A has seen ceil((N+1)/2) of them; it refuses only after N of its own.
      const onA: number[] = [];
      for (let i = Math.ceil((AUTH_LIMIT + 1) / 2); i < AUTH_LIMIT; i++) onA.push((await attempt(A)).status);
      expect(onA.every((s) => s === 401)).toBe(true);
      expect((await attempt(A)).status).toBe(429);
    });
  }
});

describe('faults', () => {
  it('PostgreSQL connections killed under load (reads, registrations, refreshes): only 2xx or 503 problem+json, no half-written rows, then both recover by themselves and a revocation made meanwhile holds', async () => {
    const email = uniqueEmail('fault');
    await createUser(A, adminToken, email, ['viewer']);
    const victim = await loginTokens(A, email, STRONG_PASSWORD);
    expect((await call(B, 'GET', '/api/v1/auth/whoami', { token: victim.accessToken })).status).toBe(200); // cached on B

    const replies: Reply[] = [];
    const failures: string[] = [];
    let running = true;
    const worker = async (instance: Instance, path: string) => {
      while (running) {
        try {
          replies.push(await call(instance, 'GET', path, { token: adminToken }));
        } catch (err) {
          failures.push(`${instance.name} ${path}: ${String(err)}`);
        }
      }
    };
    // Writers: registrations (user + role + verification token in one transaction) and refresh
    // chains (rotation + successor in one transaction), each on its own client address.
    const registered: { email: string; status: number }[] = [];
    const registrar = async (instance: Instance) => {
      while (running) {
        const email = uniqueEmail('half-row');
        try {
          const reply = await call(instance, 'POST', '/api/v1/auth/register', { body: { email, password: STRONG_PASSWORD, displayName: 'Half Row' }, ip: clientIp() });
          replies.push(reply);
          registered.push({ email, status: reply.status });
        } catch (err) {
          failures.push(`${instance.name} register: ${String(err)}`);
        }
      }
    };
    const refresher = async (instance: Instance, tokens: Tokens) => {
      let refreshToken = tokens.refreshToken;
      while (running) {
        try {
          const reply = await call(instance, 'POST', '/api/v1/auth/refresh', { body: { refreshToken }, ip: clientIp() });
          replies.push(reply);
          // A refresh that failed left the old token as it was (or rotated with its successor
          // written, and still inside the grace window): presenting it again must work.
          if (reply.status === 200) refreshToken = (reply.body as Tokens).refreshToken;
        } catch (err) {
          failures.push(`${instance.name} refresh: ${String(err)}`);
        }
      }
    };
    const chains = await Promise.all([A, B].map((instance) => loginTokens(instance, email, STRONG_PASSWORD)));
    const workers = [A, B].flatMap((i, n) => [
      worker(i, '/api/v1/users'),
      worker(i, '/api/v1/users?limit=5'),
      worker(i, '/api/v1/auth/whoami'),
      registrar(i),
      refresher(i, chains[n]),
    ]);
    const kill = () =>
      withClient(db.url, (c) => c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [db.name]));
    let killed = 0;
    for (let i = 0; i < 3; i++) {
      await sleep(400);
      killed += (await kill()).rowCount ?? 0;
    }
    // Revoke the victim's session on A while B's listener connection is (or was just) gone.
    await pollUntil(async () => (await call(A, 'POST', '/api/v1/auth/logout', { token: victim.accessToken })).status < 300, 15_000, 'logout on A');
    await sleep(400);
    running = false;
    await Promise.all(workers);

    expect(killed).toBeGreaterThan(0);
    expect(failures).toEqual([]);
    const bad = replies.filter((r) => !(r.status >= 200 && r.status < 300) && !(r.status === 503 && problemJson(r)));
    expect(bad.map(describeReply)).toEqual([]);
    expect(replies.length).toBeGreaterThan(20);
    expect(registered.filter((r) => r.status === 202).length).toBeGreaterThan(0);

    // No half-written rows: every write was all or nothing.
    await withClient(db.url, async (c) => {
      const emails = registered.map((r) => r.email);
      const users = await c.query<{ email: string; status: string; roles: number; verify_tokens: number }>(
        `SELECT u.email, u.status,
                (SELECT count(*)::int FROM user_roles r WHERE r.user_id = u.id) AS roles,
                (SELECT count(*)::int FROM email_tokens e WHERE e.user_id = u.id AND e.purpose = 'verify_email') AS verify_tokens
           FROM users u WHERE u.email = ANY($1)`,
        [emails],
      );
      const found = new Map(users.rows.map((u) => [u.email, u]));
      // Every accepted registration is there; every registration that is there is whole.
      expect(registered.filter((r) => r.status === 202 && !found.has(r.email))).toEqual([]);
      expect(users.rows.filter((u) => u.roles !== 1 || (u.status === 'pending' && u.verify_tokens < 1))).toEqual([]);
      // A rotated refresh token always has its successor; a bearer session always has a refresh
      // token and the audit event of its sign-in (written in the same statement).
      const orphans = await c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM refresh_tokens t WHERE t.rotated_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM refresh_tokens c WHERE c.parent_id = t.id)`,
      );
      expect(orphans.rows[0].n).toBe(0);
      const bare = await c.query<{ id: string }>(
        `SELECT s.id FROM sessions s
          WHERE (s.cookie_secret_hash IS NULL AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.session_id = s.id))
             OR NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.details->>'sessionId' = s.id::text)`,
      );
      expect(bare.rows).toEqual([]);
    });

    // Both serve again without a restart.
    for (const instance of [A, B]) {
      await pollUntil(async () => (await call(instance, 'GET', '/health/ready')).status === 200, 15_000, `${instance.name} ready`);
      const login = await call(instance, 'POST', '/api/v1/auth/login', { body: { email: ADMIN_EMAIL, password: STRONG_PASSWORD }, ip: clientIp() });
      expect(login.status).toBe(200);
      expect((await call(instance, 'GET', '/api/v1/users', { token: adminToken })).status).toBe(200);
    }
    // B resynchronised: the logout made on A during the outage is enforced on B.
    await pollUntil(async () => (await call(B, 'GET', '/api/v1/auth/whoami', { token: victim.accessToken })).status === 401, 5000, 'B enforces the revocation');
    // And propagation works again within 1 s.
    const fresh = await loginTokens(A, email, STRONG_PASSWORD);
    expect((await call(B, 'GET', '/api/v1/auth/whoami', { token: fresh.accessToken })).status).toBe(200);
    expect((await call(A, 'POST', '/api/v1/auth/logout', { token: fresh.accessToken })).status).toBeLessThan(300);
    const elapsed = await pollUntil(async () => (await call(B, 'GET', '/api/v1/auth/whoami', { token: fresh.accessToken })).status === 401, 3000, 'B refuses');
    expect(elapsed).toBeLessThan(1000);
  });

  it('SIGTERM during a burst: in-flight requests complete, new ones are refused, the instance exits 0, the other keeps serving', async () => {
    // C hashes slowly (256 MiB, 3 passes: a few hundred ms each, two at a time) so that its logins
    // are still being processed when SIGTERM arrives.
    // The burst uses keep-alive connections (fetch): while closing, the server answers them with
    // `Connection: close`, so they do not hold the shutdown open.
    const C = await startInstance('C', {
      ...baseEnv(),
      ARGON2_MEMORY_KIB: '262144',
      ARGON2_ITERATIONS: '3',
      ...(sharedRedis ? { REDIS_URL: sharedRedis, REDIS_KEY_PREFIX: `bastion-cluster-c-${Date.now()}:` } : {}),
    });
    extra.push(C);
    let done = 0;
    const burst = Array.from({ length: 6 }, () =>
      call(C, 'POST', '/api/v1/auth/login', { body: { email: ADMIN_EMAIL, password: STRONG_PASSWORD }, ip: clientIp() })
        .then((reply) => String(reply.status))
        .finally(() => (done += 1)),
    );
    await sleep(200);
    C.child.kill('SIGTERM');
    const pendingAtSigterm = burst.length - done;
    await sleep(100);
    const late = await oneShot(C, 'GET', '/health/live');
    const statuses = await Promise.all(burst);
    const exit = await C.exited;

    expect(pendingAtSigterm).toBeGreaterThan(0);
    expect(statuses).toEqual(Array(burst.length).fill('200'));
    expect(late).toMatch(/^(ERR|503)/);
    expect(exit).toEqual({ code: 0, signal: null });
    expect((await call(B, 'GET', '/api/v1/auth/whoami', { token: adminToken })).status).toBe(200);
    expect((await call(B, 'GET', '/health/ready')).status).toBe(200);
  });

  it('Redis unavailable: the instance keeps serving on local rate-limit counters, readiness says 503, the fallback is counted', async () => {
    const redis = await startRedisServer();
    try {
      const D = await startInstance('D', { ...baseEnv(), REDIS_URL: redis.url, REDIS_KEY_PREFIX: `bastion-cluster-d-${Date.now()}:` });
      extra.push(D);
      expect((await call(D, 'GET', '/health/ready')).status).toBe(200);
      expect((await loginTokens(D, ADMIN_EMAIL, STRONG_PASSWORD)).accessToken).toBeTruthy();

      await redis.stop();

      const replies: Reply[] = [];
      for (let i = 0; i < 3; i++) {
        const login = await call(D, 'POST', '/api/v1/auth/login', { body: { email: ADMIN_EMAIL, password: STRONG_PASSWORD }, ip: clientIp() });
        replies.push(login);
        if (login.status === 200) replies.push(await call(D, 'GET', '/api/v1/auth/whoami', { token: (login.body as { accessToken: string }).accessToken }));
      }
      expect(replies.map(describeReply).filter((r) => !r.startsWith('2'))).toEqual([]);
      expect(replies).toHaveLength(6);

      await pollUntil(async () => (await call(D, 'GET', '/health/ready')).status === 503, 10_000, 'D not ready without Redis');
      expect((await call(D, 'GET', '/health/live')).status).toBe(200);

      // Rate limiting still works, on local counters.
      const ip = clientIp();
      const statuses: number[] = [];
      for (let i = 0; i <= AUTH_LIMIT; i++) {
        statuses.push((await call(D, 'POST', '/api/v1/auth/login', { body: { email: uniqueEmail('nobody'), password: 'not the password at all' }, ip })).status);
      }
      expect(statuses).toEqual([...Array(AUTH_LIMIT).fill(401), 429]);

      const metrics = await call(D, 'GET', '/metrics');
      expect(metrics.status).toBe(200);
      const match = /^bastion_rate_limit_fallback_total(?:\{[^}]*\})? (\d+(?:\.\d+)?)$/m.exec(metrics.text);
      expect(match).not.toBeNull();
      expect(Number(match![1])).toBeGreaterThan(0);
      // No 5xx other than the readiness probe's documented 503.
      expect(D.errorLines().filter((l) => /"statusCode":\s*5\d\d/.test(l) && !l.includes('/health/ready'))).toEqual([]);
    } finally {
      await redis.stop();
    }
  });
});

describe('OpenID Connect provider across instances', () => {
  /** Cookies of one browser across both instances (they share OIDC_COOKIE_SECRET). */
  const jar = new Map<string, string>();
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const absorb = (r: Reply) => {
    for (const line of r.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  };
  const pathOf = (location: string) => {
    const url = new URL(location, 'http://x');
    return `${url.pathname}${url.search}`;
  };

  it('authorize on A, sign-in check on B, resume on A, token on B, refresh on A: one flow', async () => {
    const callback = 'https://wiki.example.test/callback';
    const registered = await call(A, 'POST', '/api/v1/clients', { token: adminToken, body: { name: 'Wiki', redirectUris: [callback], firstParty: true } });
    expect(registered.status).toBe(201);
    const { clientId, clientSecret } = registered.body as { clientId: string; clientSecret: string };
    const email = uniqueEmail('oidc');
    await createUser(A, adminToken, email, ['viewer']);
    const ip = clientIp();
    const signIn = await call(A, 'POST', '/api/v1/auth/login?mode=cookie', { body: { email, password: STRONG_PASSWORD }, ip });
    expect(signIn.status).toBe(200);
    absorb(signIn);

    const verifier = 'v'.repeat(43);
    const query = new URLSearchParams({ client_id: clientId, response_type: 'code', redirect_uri: callback, scope: 'openid email', state: 'st', nonce: 'n', code_challenge: s256(verifier), code_challenge_method: 'S256' });
    const authorize = await call(A, 'GET', `/oidc/auth?${query}`, { ip, headers: { cookie: cookieHeader() } });
    expect(authorize.status).toBe(303);
    absorb(authorize);
    const interaction = await call(B, 'GET', `${pathOf(authorize.headers.get('location')!)}?continue=1`, { ip, headers: { cookie: cookieHeader() } });
    expect(interaction.status).toBe(303);
    absorb(interaction);
    const resume = await call(A, 'GET', pathOf(interaction.headers.get('location')!), { ip, headers: { cookie: cookieHeader() } });
    expect(resume.status).toBe(303);
    const code = new URL(resume.headers.get('location')!).searchParams.get('code')!;
    expect(code).toEqual(expect.any(String));

    const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
    const form = (body: Record<string, string>) => ({ authorization: basic, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip, body: new URLSearchParams(body).toString() });
    const tokenOn = async (instance: Instance, body: Record<string, string>) => {
      const { body: payload, ...headers } = form(body);
      const res = await fetch(`${instance.baseUrl}/oidc/token`, { method: 'POST', headers, body: payload });
      return { status: res.status, json: (await res.json()) as Record<string, string> };
    };
    const tokens = await tokenOn(B, { grant_type: 'authorization_code', code, redirect_uri: callback, code_verifier: verifier });
    expect(tokens.status).toBe(200);
    expect(tokens.json.id_token).toEqual(expect.any(String));
    const refreshed = await tokenOn(A, { grant_type: 'refresh_token', refresh_token: tokens.json.refresh_token });
    expect(refreshed.status).toBe(200);
    // The rotated-away refresh token is refused on the other instance too.
    expect((await tokenOn(B, { grant_type: 'refresh_token', refresh_token: tokens.json.refresh_token })).json.error).toBe('invalid_grant');
  });
});
