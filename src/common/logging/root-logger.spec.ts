import { Writable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createRootLogger } from './root-logger';
import { REDACTED } from './redact';

/** A logger writing into an array of parsed lines (pino writes synchronously to a plain stream). */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createRootLogger('info', stream), lines, raw: () => JSON.stringify(lines) };
}

describe('root logger redaction', () => {
  it('removes secret-named fields at the top level and one level down, keeping the rest', () => {
    const { logger, lines, raw } = capture();
    logger.info({ email: 'a@example.com', password: 'p-secret', body: { newPassword: 'n-secret', refreshToken: 'r-secret', code: '123456', title: 'kept' } }, 'x');
    expect(lines[0]).toMatchObject({ email: 'a@example.com', password: REDACTED, body: { newPassword: REDACTED, refreshToken: REDACTED, code: REDACTED, title: 'kept' } });
    expect(raw()).not.toMatch(/-secret|123456/);
  });

  it('redacts credential headers should headers ever be logged', () => {
    const { logger, lines } = capture();
    logger.info({ headers: { authorization: 'Bearer t', cookie: 'sid=1', 'x-csrf-token': 'c', 'set-cookie': 's', accept: 'text/html' } }, 'x');
    expect(lines[0]).toMatchObject({ headers: { authorization: REDACTED, cookie: REDACTED, 'x-csrf-token': REDACTED, 'set-cookie': REDACTED, accept: 'text/html' } });
  });

  it('redacts secret-named fields of a logged error at any depth, keeping its message and stack', () => {
    const { logger, lines, raw } = capture();
    const err = Object.assign(new Error('insert failed'), { params: { passwordHash: 'h-secret' }, detail: { nested: { deeper: { token: 't-secret' } } } });
    logger.error({ err }, 'failed');
    expect(lines[0]).toMatchObject({ err: { type: 'Error', message: 'insert failed', params: { passwordHash: REDACTED }, detail: { nested: { deeper: { token: REDACTED } } } } });
    expect((lines[0].err as { stack: string }).stack).toContain('insert failed');
    expect(raw()).not.toMatch(/-secret/);
  });

  it('serializes a request as id, method, URL without secret query values, and address', () => {
    const { logger, lines } = capture();
    const request = { id: 'r1', method: 'GET', url: '/api/v1/auth/google/callback?code=c-secret&state=s-secret&page=2', socket: { remoteAddress: '10.0.0.1' }, headers: { authorization: 'Bearer t' } };
    logger.info({ req: request as unknown as FastifyRequest, res: { statusCode: 302 } as FastifyReply }, 'request completed');
    expect(lines[0]).toMatchObject({ req: { id: 'r1', method: 'GET', remoteAddress: '10.0.0.1' }, res: { statusCode: 302 } });
    expect((lines[0].req as { url: string }).url).toBe(`/api/v1/auth/google/callback?code=${encodeURIComponent(REDACTED)}&state=${encodeURIComponent(REDACTED)}&page=2`);
    expect(lines[0].req).not.toHaveProperty('headers');
  });
});
