/**
 * `npm run mfa:reencrypt`: after MFA_ENCRYPTION_KEY was rotated (the old key moved to
 * MFA_PREVIOUS_ENCRYPTION_KEYS), re-encrypts every TOTP secret under the current key, one row at
 * a time under a row lock. Afterwards the previous key can be removed. Prints counts, never secrets.
 */
import { Client } from 'pg';
import { SecretBox } from '../src/auth/mfa/secret-box';
import { loadConfigFromProcessEnv } from '../src/config/app-config';
import { ensureDevelopmentSecrets } from '../src/config/development-secrets';

async function main(): Promise<void> {
  const config = ensureDevelopmentSecrets(loadConfigFromProcessEnv(), () => undefined);
  if (!config.database.url) throw new Error('DATABASE_URL must be set');
  const box = new SecretBox(config);
  const client = new Client({ connectionString: config.database.url });
  await client.connect();
  let moved = 0;
  try {
    const { rows } = await client.query<{ id: string }>('SELECT id FROM totp_factors WHERE key_id <> $1', [box.currentKeyId]);
    for (const { id } of rows) {
      await client.query('BEGIN');
      const row = await client.query<{ user_id: string; key_id: string; secret_ciphertext: string }>(
        'SELECT user_id, key_id, secret_ciphertext FROM totp_factors WHERE id = $1 AND key_id <> $2 FOR UPDATE',
        [id, box.currentKeyId],
      );
      if (row.rows[0]) {
        const { user_id: userId, key_id: keyId, secret_ciphertext: ciphertext } = row.rows[0];
        const sealed = box.seal(box.open({ keyId, ciphertext }, userId), userId);
        await client.query('UPDATE totp_factors SET secret_ciphertext = $1, key_id = $2 WHERE id = $3', [sealed.ciphertext, sealed.keyId, id]);
        moved++;
      }
      await client.query('COMMIT');
    }
    process.stdout.write(`Re-encrypted ${moved} TOTP secret(s) under key ${box.currentKeyId}\n`);
  } finally {
    await client.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`mfa:reencrypt failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
