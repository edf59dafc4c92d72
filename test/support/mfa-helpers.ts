import { randomBytes } from 'node:crypto';
import { RecoveryCodes } from '../../src/auth/mfa/recovery-codes';
import { SecretBox } from '../../src/auth/mfa/secret-box';
import { em } from './auth-helpers';
import type { TestApp } from './test-app';
import { base32Encode } from './totp';

/**
 * Enables TOTP for an existing user straight in the database, as if enrolled ten minutes ago —
 * for tests about using or managing a factor (an API setup renders a QR PNG, ~1 s under Jest).
 * The app's own SecretBox and RecoveryCodes write the rows, so they are what enrolment writes.
 */
export async function seedTotp(t: TestApp, userId: string): Promise<{ secret: string; recoveryCodes: string[] }> {
  const secret = base32Encode(randomBytes(20));
  const sealed = t.app.get(SecretBox).seal(secret, userId);
  const recoveryCodes = await em(t).transactional(async (tx) => {
    await tx.execute(
      `INSERT INTO totp_factors (id, user_id, status, secret_ciphertext, key_id, last_used_step, enabled_at)
       VALUES (gen_random_uuid(), ?, 'active', ?, ?, ?, now() - interval '10 minutes')`,
      [userId, sealed.ciphertext, sealed.keyId, Math.floor(Date.now() / 30_000) - 20],
    );
    return t.app.get(RecoveryCodes).replace(tx, userId);
  });
  return { secret, recoveryCodes };
}
