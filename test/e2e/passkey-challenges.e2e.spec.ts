import { randomUUID } from 'node:crypto';
import { hashSecret } from '../../src/common/crypto/secrets';
import { createUser, em } from '../support/auth-helpers';
import { createTestApp, type TestApp } from '../support/test-app';
import { WebAuthnChallenges } from '../../src/auth/passkeys/webauthn-challenges';

/** The challenge store's rules, on real PostgreSQL: hashed, scoped, single use, 5 minutes. */
describe('WebAuthnChallenges', () => {
  let t: TestApp;
  let store: WebAuthnChallenges;
  let userId: string;

  beforeAll(async () => {
    t = await createTestApp();
    store = t.app.get(WebAuthnChallenges);
    userId = (await createUser(t)).id;
  });
  afterAll(() => t?.close());

  it('stores only the hash, expiring 5 minutes after issue', async () => {
    const challenge = await store.issue({ purpose: 'authentication' });
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = await em(t).execute(`SELECT challenge_hash, round(extract(epoch FROM expires_at - created_at)) AS ttl FROM webauthn_challenges WHERE challenge_hash = ?`, [hashSecret(challenge)]);
    expect(rows).toEqual([{ challenge_hash: hashSecret(challenge), ttl: '300' }]);
    expect(JSON.stringify(await em(t).execute('SELECT * FROM webauthn_challenges'))).not.toContain(challenge);
  });

  it('is consumed exactly once, even by concurrent uses', async () => {
    const challenge = await store.issue({ purpose: 'authentication' });
    const results = await Promise.all([1, 2, 3].map(() => store.consume(challenge, { purpose: 'authentication' })));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.consume(challenge, { purpose: 'authentication' })).toBe(false);
  });

  it('is refused for another purpose or another user, and then still usable by its own', async () => {
    const challenge = await store.issue({ purpose: 'registration', userId });
    expect(await store.consume(challenge, { purpose: 'authentication' })).toBe(false);
    expect(await store.consume(challenge, { purpose: 'registration', userId: randomUUID() })).toBe(false);
    expect(await store.consume(challenge, { purpose: 'registration', userId })).toBe(true);
  });

  it('is refused once expired, and unknown challenges are refused', async () => {
    const challenge = await store.issue({ purpose: 'authentication' });
    await em(t).execute(`UPDATE webauthn_challenges SET expires_at = now() - interval '1 second' WHERE challenge_hash = ?`, [hashSecret(challenge)]);
    expect(await store.consume(challenge, { purpose: 'authentication' })).toBe(false);
    expect(await store.consume('never-issued', { purpose: 'authentication' })).toBe(false);
  });
});
