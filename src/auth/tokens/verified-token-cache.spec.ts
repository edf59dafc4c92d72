import { VerifiedTokenCache } from './verified-token-cache';

const credential = (expiresInMs: number) => ({
  userId: 'u',
  sessionId: 's',
  amr: ['pwd'],
  authTime: 0,
  expiresAt: new Date(Date.now() + expiresInMs),
  via: 'bearer' as const,
});

describe('VerifiedTokenCache', () => {
  it('remembers a verified token until it expires, never beyond', async () => {
    const cache = new VerifiedTokenCache();
    cache.remember('a', credential(60_000));
    expect(cache.get('a')?.sessionId).toBe('s');
    cache.remember('b', credential(30));
    await new Promise((r) => setTimeout(r, 60));
    expect(cache.get('b')).toBeUndefined();
    cache.remember('c', credential(-1));
    expect(cache.get('c')).toBeUndefined();
    expect(cache.get('unknown')).toBeUndefined();
  });
});
