import { connect } from 'node:net';
import { createUser, login, loginTokens, bearer } from '../support/auth-helpers';
import { seedTotp } from '../support/mfa-helpers';
import { ProbeModule } from '../support/probe.module';
import { totp } from '../support/totp';
import { createTestApp, type TestApp } from '../support/test-app';

const PROBLEM = 'application/problem+json';

/**
 * What the server writes back to `payload` sent on a raw socket, until it closes the connection.
 * `stall`: the client then sends nothing more and never ends its side (a slow client).
 */
function rawRequest(url: string, payload: Buffer | string, stall = false): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => (stall ? socket.write(payload) : socket.end(payload)));
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString()));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}

describe('Foundation: error shape, operations and deny-by-default', () => {
  let t: TestApp;
  const inject = (opts: Parameters<TestApp['app']['inject']>[0]) => t.app.inject(opts);

  beforeAll(async () => {
    t = await createTestApp({ imports: [ProbeModule], listen: true, env: { CORS_ORIGINS: 'https://console.example.com' } });
  });
  afterAll(() => t.close());

  it('answers liveness and readiness (PostgreSQL, and Redis when configured)', async () => {
    const live = await inject({ method: 'GET', url: '/health/live' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });
    const ready = await inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().info.database.status).toBe('up');
    if (process.env.REDIS_URL) expect(ready.json().info.redis.status).toBe('up');
  });

  it('denies a route that is not @Public() to anonymous callers with 401 problem+json', async () => {
    const res = await inject({ method: 'GET', url: '/test-probe/protected' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toContain(PROBLEM);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json()).toMatchObject({ type: 'about:blank', title: 'Unauthorized', status: 401 });
  });

  it('answers an unknown route and a wrong method with 404 problem+json', async () => {
    for (const [method, url] of [['GET', '/nope'], ['DELETE', '/health/live'], ['GET', '/api/v1/../../etc/passwd']] as const) {
      const res = await inject({ method, url });
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toContain(PROBLEM);
      expect(res.json()).toMatchObject({ status: 404, title: 'Not Found' });
    }
  });

  it('rejects unknown fields, wrong types and over-long strings with field errors', async () => {
    const res = await inject({ method: 'POST', url: '/test-probe/validate', payload: { name: 'x'.repeat(11), count: '3', extra: 1 } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain(PROBLEM);
    const body = res.json();
    expect(body.type).toBe('urn:bastion:problem:validation');
    const fields = body.errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(expect.arrayContaining(['count', 'extra', 'name']));
    const ok = await inject({ method: 'POST', url: '/test-probe/validate', payload: { name: 'ok', count: 3 } });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toEqual({ name: 'ok', count: 3 });
  });

  it.each([['[]'], ['"text"'], ['null'], ['42']])('rejects a body that is not a JSON object (%s)', async (payload) => {
    const res = await inject({ method: 'POST', url: '/test-probe/validate', payload, headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain(PROBLEM);
  });

  it('answers malformed JSON with 400 problem+json', async () => {
    const res = await inject({ method: 'POST', url: '/test-probe/validate', payload: '{"name": ', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain(PROBLEM);
    expect(res.json().detail).toMatch(/not valid JSON/);
  });

  it('answers a body over 1 MiB with 413 problem+json', async () => {
    const payload = JSON.stringify({ name: 'a'.repeat(1024 * 1024) });
    const res = await inject({ method: 'POST', url: '/test-probe/validate', payload, headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toContain(PROBLEM);
  });

  it('answers an unsupported content type with 415 problem+json', async () => {
    const res = await inject({ method: 'POST', url: '/test-probe/validate', payload: '<x/>', headers: { 'content-type': 'application/xml' } });
    expect(res.statusCode).toBe(415);
    expect(res.headers['content-type']).toContain(PROBLEM);
  });

  it('answers a malformed path id with 400 naming the parameter', async () => {
    const res = await inject({ method: 'GET', url: '/test-probe/items/not-a-uuid' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'id', message: 'must be a UUID' }]);
  });

  it('hides unexpected errors behind a generic 500 without internals', async () => {
    const res = await inject({ method: 'GET', url: '/test-probe/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.headers['content-type']).toContain(PROBLEM);
    expect(res.body).not.toMatch(/secret|SELECT|\/srv|at .*\.ts/);
    expect(res.json()).toMatchObject({ title: 'Internal Server Error', detail: 'An unexpected error occurred' });
  });

  it('echoes a valid X-Request-Id and replaces an invalid one', async () => {
    const echoed = await inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'abc.DEF_123-x' } });
    expect(echoed.headers['x-request-id']).toBe('abc.DEF_123-x');
    for (const bad of ['has space', 'x'.repeat(129), 'semi;colon']) {
      const res = await inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': bad } });
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('sends security headers and CORS only to allowed origins', async () => {
    const res = await inject({ method: 'GET', url: '/health/live', headers: { origin: 'https://console.example.com' } });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toContain('max-age=');
    expect(res.headers['access-control-allow-origin']).toBe('https://console.example.com');
    const other = await inject({ method: 'GET', url: '/health/live', headers: { origin: 'https://evil.example.com' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('publishes OpenAPI at /docs-json and Swagger UI at /docs', async () => {
    const doc = await inject({ method: 'GET', url: '/docs-json' });
    expect(doc.statusCode).toBe(200);
    expect(doc.json().openapi).toMatch(/^3\./);
    expect(Object.keys(doc.json().paths)).toEqual(expect.arrayContaining(['/health/live', '/health/ready']));
    expect(doc.json().components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const ui = await inject({ method: 'GET', url: '/docs' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger');
  });

  it('exposes Prometheus metrics labelled by route template and status', async () => {
    await inject({ method: 'GET', url: '/test-probe/items/2b1e0c84-7e55-4a5e-9b8e-0c1f2d3a4b5c' });
    const res = await inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(/bastion_http_requests_total\{method="GET",route="\/test-probe\/items\/:id",status="200"\} \d+/);
    expect(res.body).toContain('bastion_http_request_duration_seconds_bucket');
    expect(res.body).not.toContain('2b1e0c84');
  });

  it('gives every request its own EntityManager fork, POSTs included', async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) => inject({ method: 'POST', url: '/test-probe/em', payload: { i } })),
    );
    const ids = results.map((r) => r.json().contextId);
    expect(ids.every((id) => typeof id === 'number')).toBe(true);
    expect(new Set(ids).size).toBe(4);
    expect(results.map((r) => r.json().body.i)).toEqual([0, 1, 2, 3]);
  });

  it('answers raw malformed HTTP and oversized headers with problem+json', async () => {
    const bad = await rawRequest(t.url!, Buffer.from('GET /health/live HTTP/1.1\r\nHost: x\r\nBad\x01Header: y\r\n\r\n'));
    expect(bad).toMatch(/^HTTP\/1\.1 400/);
    expect(bad).toContain(PROBLEM);
    const huge = await rawRequest(t.url!, `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431/);
    expect(huge).toContain(PROBLEM);
    expect(JSON.parse(huge.slice(huge.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 431 });
  });
});

describe('Foundation: caching, Host and slow clients', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ listen: true, env: { HTTP_HEADERS_TIMEOUT: '1', HTTP_REQUEST_TIMEOUT: '2' } });
  });
  afterAll(() => t.close());

  it('token responses (login, mfa/verify, refresh, oauth/exchange) and authenticated JSON carry Cache-Control: no-store', async () => {
    const user = await createUser(t);
    const signedIn = await login(t, user.email, user.password);
    expect(signedIn.statusCode).toBe(200);
    const tokens = signedIn.json();
    const refreshed = await t.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: tokens.refreshToken } });
    expect(refreshed.statusCode).toBe(200);
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(refreshed.json().accessToken) });
    expect(me.statusCode).toBe(200);
    const otpUser = await createUser(t);
    const { secret } = await seedTotp(t, otpUser.id);
    const challenge = await login(t, otpUser.email, otpUser.password);
    expect(challenge.json()).toMatchObject({ mfaRequired: true });
    const verified = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/verify', payload: { mfaToken: challenge.json().mfaToken, code: totp(secret) } });
    expect(verified.statusCode).toBe(200);
    // A successful exchange needs the Google flow (google.e2e); the header is set for every API answer alike.
    const exchange = await t.app.inject({ method: 'POST', url: '/api/v1/auth/oauth/exchange', payload: { code: 'x'.repeat(43) } });
    expect(exchange.statusCode).toBeGreaterThanOrEqual(400);
    const cookieSession = await login(t, user.email, user.password, 'cookie');
    const cookie = String(cookieSession.headers['set-cookie']).split(';')[0];
    const csrf = await t.app.inject({ method: 'GET', url: '/api/v1/auth/csrf', headers: { cookie } });
    expect(csrf.statusCode).toBe(200);
    for (const res of [signedIn, challenge, verified, refreshed, exchange, me, cookieSession, csrf]) expect(res.headers['cache-control']).toBe('no-store');
    // Public documents that are meant to be cached keep their own policy.
    expect((await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).headers['cache-control']).toBe('public, max-age=300');
  });

  it('an authenticated request outside /api is no-store too (the token proves who asked)', async () => {
    const { accessToken } = await loginTokens(t, await createUser(t));
    const res = await t.app.inject({ method: 'GET', url: '/health/live', headers: bearer(accessToken) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect((await t.app.inject({ method: 'GET', url: '/health/live' })).headers['cache-control']).toBeUndefined();
  });

  it('RFC 9112: a request with two Host headers is a 400 problem (Node kept the first one silently)', async () => {
    const twice = await rawRequest(t.url!, 'GET /health/live HTTP/1.1\r\nHost: bastion.example\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
    expect(twice).toMatch(/^HTTP\/1\.1 400/);
    expect(twice).toContain(PROBLEM);
    expect(JSON.parse(twice.slice(twice.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 400, detail: 'A request must carry exactly one Host header' });
    const once = await rawRequest(t.url!, 'GET /health/live HTTP/1.1\r\nHost: bastion.example\r\nConnection: close\r\n\r\n');
    expect(once).toMatch(/^HTTP\/1\.1 200/);
  });

  it('HTTP_HEADERS_TIMEOUT: a client that never finishes its request head is cut off with a 408 problem', async () => {
    const answer = await rawRequest(t.url!, 'GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ', true);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toContain(PROBLEM);
  }, 15_000);

  it('HTTP_REQUEST_TIMEOUT: a client that never finishes its body is cut off with a 408 problem', async () => {
    const answer = await rawRequest(t.url!, 'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":', true);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toContain(PROBLEM);
  }, 15_000);
});

describe('Foundation: metrics token', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { METRICS_TOKEN: 'metrics-token-0123456789' } });
  });
  afterAll(() => t.close());

  it('requires the bearer metrics token when METRICS_TOKEN is set', async () => {
    const anonymous = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['content-type']).toContain(PROBLEM);
    const wrong = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer metrics-token-012345678' } });
    expect(wrong.statusCode).toBe(401);
    const right = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer metrics-token-0123456789' } });
    expect(right.statusCode).toBe(200);
  });
});
