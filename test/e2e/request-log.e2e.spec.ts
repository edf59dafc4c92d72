import { Writable } from 'node:stream';
import { ProbeModule } from '../support/probe.module';
import { createTestApp, type TestApp } from '../support/test-app';

/** The app's log lines, parsed, as the default LOG_LEVEL (info) writes them. */
class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];

  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    for (const line of chunk.toString().split('\n').filter(Boolean)) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }

  since(index: number): Record<string, unknown>[] {
    return this.lines.slice(index);
  }
}

describe('request logs (issue 11 item 7, issue 13)', () => {
  let t: TestApp;
  const logs = new LogCapture();
  const inject = (opts: Parameters<TestApp['app']['inject']>[0]) => t.app.inject(opts);
  const requestLines = (from: number) => logs.since(from).filter((l) => l.msg === 'request completed');

  beforeAll(async () => {
    t = await createTestApp({ imports: [ProbeModule], env: { LOG_LEVEL: 'info' }, logDestination: logs });
  });
  afterAll(() => t.close());

  it('writes one line per request, with its id, method, route, status and time', async () => {
    const from = logs.lines.length;
    const res = await inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { 'x-request-id': 'log-line-1' } });
    expect(res.statusCode).toBe(200);
    const lines = requestLines(from);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, requestId: 'log-line-1', req: { id: 'log-line-1', method: 'GET', url: '/.well-known/jwks.json' }, res: { statusCode: 200 } });
    expect(typeof lines[0].responseTime).toBe('number');
  });

  it('keeps secret query parameters out of the log: the names stay, the values do not', async () => {
    const from = logs.lines.length;
    const secrets = ['tok-4f1c9e', 'code-8a2b7d', 'state-3e6f0a', 'pw-5d9c1b', 'cs-7b3e2f'];
    const url = `/api/v1/auth/google/callback?token=${secrets[0]}&code=${secrets[1]}&state=${secrets[2]}&newPassword=${secrets[3]}&client_secret=${secrets[4]}&page=2`;
    await inject({ method: 'GET', url });
    const lines = requestLines(from);
    expect(lines).toHaveLength(1);
    const logged = (lines[0].req as { url: string }).url;
    for (const name of ['token=', 'code=', 'state=', 'newPassword=', 'client_secret=', 'page=2']) expect(logged).toContain(name);
    const everything = JSON.stringify(logs.since(from));
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });

  it('never logs a request body or credential headers: a failed login leaves no password or token', async () => {
    const from = logs.lines.length;
    const res = await inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { authorization: 'Bearer hdr-6c2a9f0e1d', cookie: 'bastion_session=ck-1f7e3a' },
      payload: { email: 'nobody@example.com', password: 'pw-body-9e4d2c' },
    });
    expect(res.statusCode).toBe(401);
    expect(requestLines(from)).toMatchObject([{ level: 40, res: { statusCode: 401 } }]);
    const everything = JSON.stringify(logs.since(from));
    for (const secret of ['pw-body-9e4d2c', 'hdr-6c2a9f0e1d', 'ck-1f7e3a']) expect(everything).not.toContain(secret);
  });

  it('does not log successful probes and scrapes, but does log a refused one', async () => {
    const from = logs.lines.length;
    expect((await inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    expect((await inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    expect(requestLines(from)).toHaveLength(0);
    expect((await inject({ method: 'DELETE', url: '/health/live' })).statusCode).toBe(404);
    expect(requestLines(from)).toMatchObject([{ level: 40, req: { method: 'DELETE' }, res: { statusCode: 404 } }]);
  });

  it('logs an unexpected error once with its request id, and the request line at error level', async () => {
    const from = logs.lines.length;
    const res = await inject({ method: 'GET', url: '/test-probe/boom', headers: { 'x-request-id': 'boom-1' } });
    expect(res.statusCode).toBe(500);
    const errors = logs.since(from).filter((l) => l.msg === 'Unhandled error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ level: 50, requestId: 'boom-1', err: { type: 'Error' } });
    expect(requestLines(from)).toMatchObject([{ level: 50, requestId: 'boom-1', res: { statusCode: 500 } }]);
  });
});
