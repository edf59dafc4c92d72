import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { guardedFetch, isInternalAddress } from './backchannel-fetch';

describe('back-channel logout fetch: internal addresses only when allowed', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', 'not-an-ip'])('%s is internal', (ip) => {
    expect(isInternalAddress(ip)).toBe(true);
  });

  it.each(['8.8.8.8', '172.32.0.1', '2001:4860:4860::8888'])('%s is public', (ip) => {
    expect(isInternalAddress(ip)).toBe(false);
  });

  it('refuses a loopback literal or a name resolving to loopback that is not listed, without sending anything', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const refusing = guardedFetch([]);
      await expect(refusing(`http://127.0.0.1:${port}/logout`, { method: 'POST' })).rejects.toThrow(/OIDC_BACKCHANNEL_ALLOWED_HOSTS/);
      await expect(refusing(`http://localhost:${port}/logout`, { method: 'POST' })).rejects.toThrow(/internal address/);
      expect(hits).toBe(0);
      const allowing = guardedFetch(['127.0.0.1']);
      expect((await allowing(`http://127.0.0.1:${port}/logout`, { method: 'POST' })).status).toBe(200);
      expect(hits).toBe(1);
    } finally {
      server.close();
    }
  });
});
