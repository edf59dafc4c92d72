import { connect } from 'node:net';
import { bearer, createUser, loginTokens } from '../support/auth-helpers';
import { expectValidation } from '../support/problem-assertions';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * What the HTTP fuzzer (test/fuzz) found, one test per finding, each written against the exact
 * request that broke the contract. Fixes: src/common/http/input-limits.ts and validation.pipe.ts
 * (NUL, lone surrogates, nesting, inherited-method keys), src/common/pagination/pagination.ts
 * (limit/offset), src/app.setup.ts (router errors, Host-less HTTP/1.1, Expect).
 */

const PROBLEM = 'application/problem+json';

/** One raw request on a socket; resolves with what the server wrote before closing. */
function raw(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = connect(Number(port), hostname, () => socket.write(request));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (/\r\n\r\n/.test(data) && /content-length: (\d+)/i.test(data)) {
        const length = Number(/content-length: (\d+)/i.exec(data)![1]);
        if (Buffer.byteLength(data.split('\r\n\r\n').slice(1).join('\r\n\r\n'), 'latin1') >= length) socket.destroy();
      }
    });
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
    setTimeout(() => socket.destroy(), 3000).unref();
  });
}

describe('Fuzzer findings stay fixed', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await createTestApp({ listen: true });
    admin = (await loginTokens(t, await createUser(t, { roles: ['admin'] }))).accessToken;
  });
  afterAll(() => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: string, token?: string) =>
    t.app.inject({ method, url, payload, headers: { 'content-type': 'application/json', ...(token ? bearer(token) : {}) } });

  describe('U+0000 reached PostgreSQL text: 500 "invalid byte sequence"', () => {
    it('PATCH /users/me {displayName: "\\u0000"} is a 400', async () => {
      expectValidation(await call('PATCH', '/api/v1/users/me', JSON.stringify({ displayName: '\u0000' }), admin), 'displayName');
    });

    it('GET /users?q=%00 is a 400', async () => {
      expectValidation(await call('GET', '/api/v1/users?q=%00', undefined, admin), 'q');
    });

    it('POST /auth/register with a NUL in displayName is a 400 and creates no one', async () => {
      const res = await call('POST', '/api/v1/auth/register', JSON.stringify({ email: 'nul@example.com', password: 'a long enough passphrase', displayName: 'x\u0000' }));
      expectValidation(res, 'displayName');
      expect((await call('GET', '/api/v1/users?q=nul%40example.com', undefined, admin)).json().total).toBe(0);
    });

    it('POST /roles with a NUL in a condition value is a 400', async () => {
      const body = { name: 'nul-role', permissions: [{ action: 'read', subject: 'Document', conditions: { title: '\u0000' } }] };
      expectValidation(await call('POST', '/api/v1/roles', JSON.stringify(body), admin), 'permissions[0].conditions.title');
    });
  });

  describe('lone surrogates made validator.isEmail throw URIError: 500', () => {
    it.each([
      ['/api/v1/auth/login', { email: '\ud800', password: 'x' }],
      ['/api/v1/auth/password/forgot', { email: '\ud800' }],
      ['/api/v1/auth/resend-verification', { email: 'a\ud800@example.com' }],
    ])('%s with a lone surrogate in the email is a 400', async (url, body) => {
      expectValidation(await call('POST', url, JSON.stringify(body)), 'email');
    });
  });

  describe('deep JSON overflowed the stack in class-transformer: 500 RangeError', () => {
    it('POST /auth/refresh with 20 000 nested objects is a 400', async () => {
      const res = await call('POST', '/api/v1/auth/refresh', '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000));
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain(PROBLEM);
    });

    it('POST /auth/register with an unknown key holding 2 000 nested arrays is a 400', async () => {
      const res = await call('POST', '/api/v1/auth/register', `{"password":"x","displayName":"a","id":${'['.repeat(2000)}${']'.repeat(2000)}}`);
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain(PROBLEM);
    });
  });

  describe('@IsOptional() let null through as if the field were absent: 500 or a silent write', () => {
    it('PATCH /users/:id with every field null is a 400 and writes nothing (was 500)', async () => {
      const user = await createUser(t, { roles: ['viewer'] });
      const before = (await call('GET', `/api/v1/users/${user.id}`, undefined, admin)).json();
      const res = await call('PATCH', `/api/v1/users/${user.id}`, JSON.stringify({ displayName: null, roles: null, departmentId: null, status: null }), admin);
      const errors = (expectValidation(res).errors as { field: string }[]).map((e) => e.field);
      expect(new Set(errors)).toEqual(new Set(['displayName', 'roles', 'status']));
      expect((await call('GET', `/api/v1/users/${user.id}`, undefined, admin)).json()).toEqual(before);
    });

    it('PATCH /roles/:id {name: null} is a 400 (was 500) and POST /roles {description: null} a 400 (was 201)', async () => {
      const created = await call('POST', '/api/v1/roles', JSON.stringify({ name: 'null-probe', permissions: [] }), admin);
      expect(created.statusCode).toBe(201);
      expectValidation(await call('PATCH', `/api/v1/roles/${created.json().id}`, JSON.stringify({ name: null }), admin), 'name');
      expectValidation(await call('POST', '/api/v1/roles', JSON.stringify({ name: 'null-probe-2', description: null, permissions: [] }), admin), 'description');
      expect((await call('GET', '/api/v1/roles', undefined, admin)).json().map((r: { name: string }) => r.name)).not.toContain('null-probe-2');
    });

    it('POST /policies/check {userId: null} is a 400, not a check of the caller (was 200)', async () => {
      expectValidation(await call('POST', '/api/v1/policies/check', JSON.stringify({ action: 'read', subject: 'Document', userId: null }), admin), 'userId');
    });

    it('POST /auth/mfa/verify with a null code and a null recovery code is a 400', async () => {
      const res = await call('POST', '/api/v1/auth/mfa/verify', JSON.stringify({ mfaToken: 'm'.repeat(40), code: null, recoveryCode: null }));
      const errors = (expectValidation(res).errors as { field: string }[]).map((e) => e.field);
      expect(new Set(errors)).toEqual(new Set(['code', 'recoveryCode']));
    });
  });

  it('an unknown body key named like an inherited method (toString) is a 400, not silently dropped (was 202)', async () => {
    expectValidation(await call('POST', '/api/v1/auth/resend-verification', JSON.stringify({ email: 'a@example.com', toString: 1 })), 'toString');
  });

  it.each(['offset=%20', 'offset=', 'limit=1e2', 'limit=0x10', 'limit=%2B5'])('GET /audit-events?%s is a 400 (was read by Number(): 200)', async (query) => {
    expectValidation(await call('GET', `/api/v1/audit-events?${query}`, undefined, admin), query.split('=')[0]);
  });

  describe("Fastify's router answered plain JSON without X-Request-Id, echoing the path", () => {
    it('a path parameter over 200 characters is a 414 problem', async () => {
      const res = await call('GET', `/api/v1/users/${'x'.repeat(201)}`, undefined, admin);
      expect(res.statusCode).toBe(414);
      expect(res.headers['content-type']).toContain(PROBLEM);
      expect(res.headers['x-request-id']).toBeTruthy();
      expect(res.json()).toMatchObject({ status: 414, title: 'URI Too Long' });
      expect(res.body).not.toContain('xxxxxxxx');
    });

    it('a path that is not valid percent-encoded UTF-8 is a 400 problem', async () => {
      const res = await call('GET', '/api/v1/users/%ED%A0%80', undefined, admin);
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain(PROBLEM);
      expect(res.headers['x-request-id']).toBeTruthy();
    });
  });

  describe('Node answered some raw requests itself with an empty body', () => {
    it('HTTP/1.1 without Host is a 400 problem', async () => {
      const res = await raw(t.url!, 'GET /health/live HTTP/1.1\r\n\r\n');
      expect(res).toMatch(/^HTTP\/1\.1 400 /);
      expect(res).toMatch(/content-type: application\/problem\+json/i);
      expect(res).toMatch(/x-request-id: \S+/i);
      expect(res).toContain('"status":400');
    });

    it('an Expect other than 100-continue is a 417 problem', async () => {
      const res = await raw(t.url!, 'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
      expect(res).toMatch(/^HTTP\/1\.1 417 /);
      expect(res).toMatch(/content-type: application\/problem\+json/i);
      expect(res).toContain('"status":417');
    });
  });
});
