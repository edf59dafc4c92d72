import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { loadConfig } from '../../config/app-config';
import { PasswordPolicy } from './password-policy';

// A stand-in for api.pwnedpasswords.com: the tests have no internet, and this way they can also see
// exactly what leaves the host.
const BREACHED = 'tangerine owl at midnight';
const CLEAN = 'a passphrase nobody has leaked';
const sha1 = (s: string) => createHash('sha1').update(s).digest('hex').toUpperCase();
const BREACHED_REFUSAL = ['Password appears in a known data breach; choose a different one.'];

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(handler: Handler): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/range/` };
}

async function shutDown(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const policyFor = (url: string) => new PasswordPolicy(loadConfig({ HIBP_ENABLED: 'true', HIBP_RANGE_URL: url }));

describe('PasswordPolicy — breached passwords (HIBP range API)', () => {
  const requests: IncomingMessage[] = [];
  let server: Server;
  let url: string;
  let warn: jest.SpyInstance;

  beforeAll(async () => {
    ({ server, url } = await listen((req, res) => {
      requests.push(req);
      // The breached suffix with a real count, the clean one only as padding (count 0), plus filler.
      const lines = [`${sha1(BREACHED).slice(5)}:3861493`, `${sha1(CLEAN).slice(5)}:0`, `${'0'.repeat(35)}:0`];
      res.end(lines.join('\r\n'));
    }));
  });
  afterAll(() => shutDown(server));
  beforeEach(() => {
    requests.length = 0;
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  it('ASVS 6.2.12: refuses a password the range lists with a count, sending only the 5-char prefix', async () => {
    await expect(policyFor(url).check(BREACHED, {})).resolves.toEqual(BREACHED_REFUSAL);
    expect(requests.map((r) => r.url)).toEqual([`/range/${sha1(BREACHED).slice(0, 5)}`]);
    expect(requests[0].headers['add-padding']).toBe('true');
    expect(warn).not.toHaveBeenCalled();
  });

  it('ASVS 6.2.12: accepts a password absent from the range or present only as padding (count 0)', async () => {
    await expect(policyFor(url).check(CLEAN, {})).resolves.toEqual([]);
    await expect(policyFor(url).check('another fine passphrase', {})).resolves.toEqual([]);
    expect(requests.map((r) => r.url?.length)).toEqual(['/range/'.length + 5, '/range/'.length + 5]);
  });

  it('does not query HIBP when it is disabled (the default) or the password is already refused', async () => {
    await expect(new PasswordPolicy(loadConfig({ HIBP_RANGE_URL: url })).check(BREACHED, {})).resolves.toEqual([]);
    await expect(policyFor(url).check('too short', {})).resolves.toHaveLength(1);
    expect(requests).toHaveLength(0);
  });

  describe('fails open, with one warning that carries no secret', () => {
    const expectOneCleanWarning = () => {
      expect(warn).toHaveBeenCalledTimes(1);
      const line = String(warn.mock.calls[0][0]);
      expect(line).toMatch(/Breached-password check unavailable/);
      for (const secret of [BREACHED, sha1(BREACHED), sha1(BREACHED).slice(0, 5)]) expect(line).not.toContain(secret);
    };

    it('ASVS 6.2.12: accepts when the service is down (closed port)', async () => {
      const down = await listen(() => undefined);
      await shutDown(down.server);
      await expect(policyFor(down.url).check(BREACHED, {})).resolves.toEqual([]);
      expectOneCleanWarning();
    });

    it('ASVS 6.2.12: accepts when the service answers with an error status', async () => {
      const failing = await listen((_req, res) => res.writeHead(503).end());
      try {
        await expect(policyFor(failing.url).check(BREACHED, {})).resolves.toEqual([]);
      } finally {
        await shutDown(failing.server);
      }
      expectOneCleanWarning();
      expect(String(warn.mock.calls[0][0])).toContain('HTTP 503');
    });

    it('ASVS 6.2.12: gives up after 2 s when the service never answers', async () => {
      const silent = await listen(() => undefined);
      const started = Date.now();
      try {
        await expect(policyFor(silent.url).check(BREACHED, {})).resolves.toEqual([]);
      } finally {
        await shutDown(silent.server);
      }
      expect(Date.now() - started).toBeLessThan(10_000);
      expectOneCleanWarning();
      expect(String(warn.mock.calls[0][0])).toContain('no answer within 2000 ms');
    });
  });
});
