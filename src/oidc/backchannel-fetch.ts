import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Loopback, private, link-local, CGNAT, unique-local and unspecified ranges (IPv4 and IPv6). */
const INTERNAL = new BlockList();
for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) {
  INTERNAL.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10]] as const) INTERNAL.addSubnet(net, bits, 'ipv6');

export function isInternalAddress(address: string): boolean {
  const mapped = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  const family = isIP(mapped);
  if (!family) return true;
  return INTERNAL.check(mapped, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * oidc-provider's `fetch` (back-channel logout calls, the only outgoing requests it makes here):
 * a host that is or resolves to an internal address is refused unless it is listed in
 * OIDC_BACKCHANNEL_ALLOWED_HOSTS, so a client registration cannot make Bastion probe its network.
 */
export function guardedFetch(allowedHosts: string[]): (url: string | URL, init?: RequestInit) => Promise<Response> {
  const allowed = new Set(allowedHosts);
  return async (url, init) => {
    const target = new URL(url);
    const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (!allowed.has(host)) {
      const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
      if (addresses.some(isInternalAddress)) {
        throw new Error(`${host} is an internal address and not listed in OIDC_BACKCHANNEL_ALLOWED_HOSTS`);
      }
    }
    return fetch(target, { ...init, redirect: 'manual' });
  };
}
