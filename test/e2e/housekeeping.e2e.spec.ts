import { Housekeeping } from '../../src/database/housekeeping';
import { createUser, em } from '../support/auth-helpers';
import { createTestApp, type TestApp } from '../support/test-app';

describe('housekeeping of one-time rows', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('removes expired OAuth states, exchange codes, MFA challenges, link tokens and OIDC provider artifacts, and keeps live ones', async () => {
    const user = await createUser(t);
    const db = em(t);
    const insert = async (past: boolean) => {
      const at = past ? "now() - interval '2 days'" : "now() + interval '5 minutes'";
      const tag = Math.random().toString(36).slice(2).padEnd(12, '0');
      await db.execute(`INSERT INTO oauth_states (id, state_hash, verifier_ciphertext, key_id, browser_hash, expires_at) VALUES (gen_random_uuid(), ?, 'x', 'k', 'b', ${at})`, [`s${tag}`]);
      await db.execute(`INSERT INTO oauth_exchange_codes (id, code_hash, user_id, amr, expires_at) VALUES (gen_random_uuid(), ?, ?, '["google"]', ${at})`, [`c${tag}`, user.id]);
      await db.execute(`INSERT INTO mfa_challenges (id, user_id, token_hash, amr, expires_at) VALUES (gen_random_uuid(), ?, ?, '["pwd"]', ${at})`, [user.id, `m${tag}`]);
      await db.execute(`INSERT INTO email_tokens (id, user_id, purpose, token_hash, expires_at) VALUES (gen_random_uuid(), ?, 'verify_email', ?, ${at})`, [user.id, `e${tag}`]);
      await db.execute(`INSERT INTO oidc_models (model, id, payload, expires_at) VALUES ('AuthorizationCode', ?, '{}', ${at})`, [`o${tag}`]);
    };
    await insert(true);
    await insert(false);
    const removed = await t.app.get(Housekeeping).run();
    expect(removed).toBe(5);
    for (const table of ['oauth_states', 'oauth_exchange_codes', 'mfa_challenges', 'email_tokens', 'oidc_models']) {
      const [row] = await db.execute(`SELECT count(*)::int AS n FROM ${table}`);
      expect({ table, n: row.n }).toEqual({ table, n: 1 });
    }
  });
});
