import fc from 'fast-check';
import { createTestApp, type TestApp } from '../support/test-app';
import { INVALID_UTF8 } from './hostile';
import { violationsOf } from './oracle';
import { rawExchange } from './raw-http';
import { FUZZ_SEED, seedFor } from './runner';

/**
 * Malformed HTTP that only a socket can send: bad bytes in the request line and headers, 64 KB
 * headers, smuggling-shaped framing, broken chunking, invalid UTF-8. Whatever reaches the server,
 * each answer is a non-5xx problem+json with a request id and no internals — including the ones
 * Node's HTTP parser writes before Fastify sees the request. Plus one check that 429s are
 * problem+json too (the auth limit is low in this file; the other fuzz file sets it out of reach).
 */

const CRLF = '\r\n';
const req = (head: string, body = '') => Buffer.from(`${head}${CRLF}${CRLF}${body}`, 'latin1');
const bytes = (...parts: (string | Buffer | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const LOGIN_JSON = '{"email":"nobody@example.com","password":"wrong password 1"}';

interface RawCase {
  name: string;
  payload: Buffer;
  /** The server may close without answering (a body that never arrives, a non-HTTP byte stream). */
  silentCloseOk?: boolean;
}

const CASES: RawCase[] = [
  { name: 'space in a header name', payload: req(`GET /health/live HTTP/1.1${CRLF}Host: x${CRLF}Bad Header: 1`) },
  { name: 'NUL in a header value', payload: bytes(`GET /health/live HTTP/1.1${CRLF}Host: x${CRLF}X-A: a`, [0], `b${CRLF}${CRLF}`) },
  { name: 'control bytes in a header name', payload: bytes(`GET /health/live HTTP/1.1${CRLF}Host: x${CRLF}X`, [0x7f, 0x01], `: 1${CRLF}${CRLF}`) },
  { name: 'invalid UTF-8 in a header name', payload: bytes(`GET /health/live HTTP/1.1${CRLF}Host: x${CRLF}X-`, INVALID_UTF8[0], `: 1${CRLF}${CRLF}`) },
  { name: 'invalid UTF-8 (obs-text) in header values', payload: bytes(`GET /api/v1/auth/whoami HTTP/1.1${CRLF}Host: x${CRLF}User-Agent: `, INVALID_UTF8[0], `${CRLF}Authorization: Bearer `, INVALID_UTF8[1], `${CRLF}Cookie: __Host-sid=`, INVALID_UTF8[2], `${CRLF}X-Request-Id: `, INVALID_UTF8[3], `${CRLF}${CRLF}`) },
  { name: 'invalid UTF-8 user agent on a login', payload: bytes(`POST /api/v1/auth/login HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}User-Agent: `, INVALID_UTF8[0], `${CRLF}Content-Length: ${LOGIN_JSON.length}${CRLF}${CRLF}${LOGIN_JSON}`) },
  { name: 'header line without a colon', payload: req(`GET /health/live HTTP/1.1${CRLF}Host: x${CRLF}NoColonHere`) },
  { name: 'bare CR inside a header', payload: req(`GET /health/live HTTP/1.1${CRLF}Host: x${CRLF}X-A: a\rb`) },
  { name: 'bare LF line endings', payload: Buffer.from('GET /health/live HTTP/1.1\nHost: x\n\n') },
  { name: 'obsolete line folding', payload: req(`GET /health/live HTTP/1.1${CRLF}Host: x${CRLF}X-A: a${CRLF} folded`) },
  { name: '64 KB header value', payload: req(`GET /health/live HTTP/1.1${CRLF}Host: x${CRLF}X-Big: ${'a'.repeat(64 * 1024)}`) },
  { name: '64 KB cookie on a protected route', payload: req(`GET /api/v1/users/me HTTP/1.1${CRLF}Host: x${CRLF}Cookie: __Host-sid=${'b'.repeat(64 * 1024)}`) },
  { name: '64 KB bearer token', payload: req(`GET /api/v1/users/me HTTP/1.1${CRLF}Host: x${CRLF}Authorization: Bearer ${'c'.repeat(64 * 1024)}`) },
  { name: '3000 headers', payload: req(`GET /health/live HTTP/1.1${CRLF}Host: x${CRLF}${Array.from({ length: 3000 }, (_, i) => `X-H${i}: ${i}`).join(CRLF)}`) },
  { name: '100 KB URL', payload: req(`GET /api/v1/documents?q=${'q'.repeat(100 * 1024)} HTTP/1.1${CRLF}Host: x`) },
  { name: 'garbage request line', payload: req('FOO BAR') },
  { name: 'method only', payload: req('GET') },
  // RFC 9112 §2.2: empty lines before the request line are skipped; the server waits for one.
  { name: 'empty lines only', payload: Buffer.from(`${CRLF}${CRLF}${CRLF}`), silentCloseOk: true },
  { name: 'unknown method', payload: req(`BREW /health/live HTTP/1.1${CRLF}Host: x`) },
  { name: 'lower-case method', payload: req(`get /health/live HTTP/1.1${CRLF}Host: x`) },
  { name: 'HTTP/9.9', payload: req(`GET /health/live HTTP/9.9${CRLF}Host: x`) },
  { name: 'HTTP/1.1 without Host', payload: req('GET /health/live HTTP/1.1') },
  { name: 'two Host headers', payload: req(`GET /health/live HTTP/1.1${CRLF}Host: a${CRLF}Host: b`) },
  { name: 'absolute-form target', payload: req(`GET http://evil.example/health/live HTTP/1.1${CRLF}Host: x`) },
  { name: 'asterisk target on GET', payload: req(`GET * HTTP/1.1${CRLF}Host: x`) },
  { name: 'raw space in the path', payload: req(`GET /api/v1/users/a b HTTP/1.1${CRLF}Host: x`) },
  { name: 'raw 0xFF in the path', payload: bytes('GET /api/v1/users/', [0xff, 0xfe], ` HTTP/1.1${CRLF}Host: x${CRLF}${CRLF}`) },
  { name: 'NUL in the path', payload: bytes('GET /api/v1/users/', [0], ` HTTP/1.1${CRLF}Host: x${CRLF}${CRLF}`) },
  { name: 'percent-encoded invalid UTF-8 in the path', payload: req(`GET /api/v1/users/%ff%fe%c0%af HTTP/1.1${CRLF}Host: x`) },
  { name: 'lone percent in the path', payload: req(`GET /api/v1/documents/% HTTP/1.1${CRLF}Host: x`) },
  { name: 'percent-encoded NUL in the query', payload: req(`GET /api/v1/documents?q=%00&status=%ff HTTP/1.1${CRLF}Host: x`) },
  { name: 'dot segments escaping the API', payload: req(`GET /api/v1/../../../../etc/passwd HTTP/1.1${CRLF}Host: x`) },
  { name: 'Content-Length and Transfer-Encoding together', payload: req(`POST /api/v1/auth/login HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Content-Length: 4${CRLF}Transfer-Encoding: chunked`, `0${CRLF}${CRLF}GET /health/live HTTP/1.1${CRLF}Host: x${CRLF}${CRLF}`) },
  { name: 'two different Content-Lengths', payload: req(`POST /api/v1/auth/login HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Content-Length: 2${CRLF}Content-Length: 60`, LOGIN_JSON) },
  { name: 'negative Content-Length', payload: req(`POST /api/v1/auth/login HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Content-Length: -1`, LOGIN_JSON) },
  { name: 'non-numeric Content-Length', payload: req(`POST /api/v1/auth/login HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Content-Length: 1e3`, LOGIN_JSON) },
  { name: 'Content-Length larger than the body', payload: req(`POST /api/v1/auth/login HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Content-Length: 5000`, LOGIN_JSON), silentCloseOk: true },
  { name: 'Content-Length smaller than the body (rest is garbage)', payload: req(`POST /api/v1/auth/login HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Content-Length: 10`, LOGIN_JSON) },
  { name: 'huge Content-Length', payload: req(`POST /api/v1/auth/login HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Content-Length: 99999999999999999999`, LOGIN_JSON) },
  { name: 'Content-Length over the body limit', payload: req(`POST /api/v1/auth/login HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Content-Length: 2097152`, LOGIN_JSON), silentCloseOk: true },
  { name: 'invalid chunk size', payload: req(`POST /api/v1/auth/login HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Transfer-Encoding: chunked`, `zz${CRLF}{}${CRLF}0${CRLF}${CRLF}`) },
  { name: 'chunk longer than declared', payload: req(`POST /api/v1/auth/login HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Transfer-Encoding: chunked`, `2${CRLF}${LOGIN_JSON}${CRLF}0${CRLF}${CRLF}`) },
  { name: 'chunked body of invalid UTF-8 JSON', payload: bytes(`POST /api/v1/auth/login HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}10${CRLF}{"email":"`, INVALID_UTF8[0], INVALID_UTF8[1], INVALID_UTF8[2], `"}${CRLF}0${CRLF}${CRLF}`) },
  { name: 'Transfer-Encoding gzip, chunked', payload: req(`POST /api/v1/auth/login HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Transfer-Encoding: gzip, chunked`, `2${CRLF}{}${CRLF}0${CRLF}${CRLF}`) },
  { name: 'Transfer-Encoding that is not chunked', payload: req(`POST /api/v1/auth/login HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Transfer-Encoding: identity`, LOGIN_JSON), silentCloseOk: true },
  { name: 'Content-Encoding gzip that is not gzip', payload: req(`POST /api/v1/auth/login HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Content-Encoding: gzip${CRLF}Content-Length: ${LOGIN_JSON.length}`, LOGIN_JSON) },
  { name: 'Expect that is not 100-continue', payload: req(`POST /api/v1/auth/login HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Expect: 200-ok${CRLF}Content-Length: ${LOGIN_JSON.length}`, LOGIN_JSON) },
  { name: 'Upgrade to h2c', payload: req(`GET /health/live HTTP/1.1${CRLF}Host: x${CRLF}Connection: Upgrade, HTTP2-Settings${CRLF}Upgrade: h2c${CRLF}HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA`) },
  { name: 'WebSocket upgrade', payload: req(`GET /api/v1/auth/whoami HTTP/1.1${CRLF}Host: x${CRLF}Connection: Upgrade${CRLF}Upgrade: websocket${CRLF}Sec-WebSocket-Version: 13${CRLF}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==`), silentCloseOk: true },
  { name: 'HTTP/2 connection preface', payload: Buffer.from(`PRI * HTTP/2.0${CRLF}${CRLF}SM${CRLF}${CRLF}`) },
  { name: 'TLS ClientHello on the plain port', payload: Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, ...Array(32).fill(0x42)]) },
  { name: 'pipelined: a good request, then garbage', payload: bytes(req(`GET /health/live HTTP/1.1${CRLF}Host: x`), `GARBAGE ${'\x01'.repeat(10)}${CRLF}${CRLF}`) },
  { name: 'pipelined: hostile bodies on a keep-alive connection', payload: bytes(req(`POST /api/v1/auth/login HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Content-Length: 1`, '{'), req(`POST /api/v1/auth/register HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Content-Length: 6`, '[[[[]]')) },
  { name: 'HTTP/1.0 with keep-alive', payload: req(`GET /api/v1/auth/whoami HTTP/1.0${CRLF}Connection: keep-alive`) },
];

describe('Raw HTTP fuzzing over a socket', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ listen: true, env: { THROTTLE_AUTH_LIMIT: '5' } });
  });
  afterAll(() => t?.close());

  function judge(name: string, exchange: Awaited<ReturnType<typeof rawExchange>>, silentCloseOk = false): string[] {
    const out: string[] = [];
    if (!exchange.responses.length && !silentCloseOk) out.push(`${name}: no HTTP response (${exchange.timedOut ? 'timed out' : 'closed'}; got ${JSON.stringify(exchange.trailing.slice(0, 80))})`);
    if (exchange.trailing.length && exchange.responses.length) out.push(`${name}: bytes after the responses: ${JSON.stringify(exchange.trailing.slice(0, 80))}`);
    for (const res of exchange.responses) {
      for (const v of violationsOf(res)) out.push(`${name}: ${v} — ${res.statusCode} ${String(res.headers['content-type'])} ${res.body.slice(0, 200)}`);
    }
    return out;
  }

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const exchange = await rawExchange(t.url!, c.payload, c.silentCloseOk ? 800 : 3000);
    expect(judge(c.name, exchange, c.silentCloseOk)).toEqual([]);
  });

  it('generated request heads: random bytes in the method, target, header names and values', async () => {
    const token = fc.string({ minLength: 1, maxLength: 12, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!#$%&*+^`|') });
    const anyBytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
    const head = fc.record({
      method: fc.oneof(fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'), anyBytes(8).map((b) => b.toString('latin1'))),
      target: fc.oneof(fc.constantFrom('/api/v1/auth/whoami', '/api/v1/documents', '/api/v1/users/me', '/health/live', '/api/v1/auth/login'), anyBytes(40).map((b) => `/${b.toString('latin1')}`)),
      headers: fc.array(fc.tuple(fc.oneof(token, anyBytes(10).map((b) => b.toString('latin1'))), anyBytes(60).map((b) => b.toString('latin1'))), { maxLength: 6 }),
    });
    const findings: string[] = [];
    const samples = fc.sample(head, { seed: seedFor('raw heads'), numRuns: Number(process.env.FUZZ_RAW_RUNS ?? 40) });
    for (const [i, h] of samples.entries()) {
      const lines = [`${h.method} ${h.target} HTTP/1.1`, 'Host: x', ...h.headers.map(([k, v]) => `${k}: ${v}`)];
      const exchange = await rawExchange(t.url!, Buffer.from(`${lines.join(CRLF)}${CRLF}${CRLF}`, 'latin1'));
      // HEAD answers carry no body; a request the parser could not frame may be closed silently.
      if (h.method === 'HEAD') continue;
      findings.push(...judge(`#${i} ${JSON.stringify(lines).slice(0, 200)}`, exchange));
    }
    expect({ seed: FUZZ_SEED, findings }).toEqual({ seed: FUZZ_SEED, findings: [] });
  });

  it('answers 429 as problem+json with Retry-After, whatever the body', async () => {
    const bodies = ['{', LOGIN_JSON, '{"email":"a@b.c","password":"x","__proto__":{}}', '[]', LOGIN_JSON, LOGIN_JSON, '{"email":1}', LOGIN_JSON];
    const statuses: number[] = [];
    for (const payload of bodies) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '198.51.100.7', headers: { 'content-type': 'application/json' }, payload });
      statuses.push(res.statusCode);
      expect(violationsOf(res)).toEqual([]);
      if (res.statusCode === 429) {
        expect(res.json()).toMatchObject({ type: 'urn:bastion:problem:rate-limited', status: 429 });
        expect(res.headers['retry-after']).toMatch(/^\d+$/);
      }
    }
    expect(statuses).toContain(429);
  });
});
