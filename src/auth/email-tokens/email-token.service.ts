import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { hashSecret, randomSecret } from '../../common/crypto/secrets';
import { EmailTokenPurpose } from './email-token.entity';

export const EMAIL_TOKEN_TTL_SECONDS: Record<EmailTokenPurpose, number> = {
  [EmailTokenPurpose.VerifyEmail]: 24 * 3600,
  [EmailTokenPurpose.ResetPassword]: 30 * 60,
  [EmailTokenPurpose.ChangeEmail]: 24 * 3600,
};

/** One-time link tokens: 256 random bits, stored hashed, single use, expiring. */
@Injectable()
export class EmailTokenService {
  /** A new token for the user; earlier unused tokens of the same purpose stop working. */
  async issue(em: EntityManager, userId: string, purpose: EmailTokenPurpose, newEmail: string | null = null): Promise<string> {
    const token = randomSecret();
    await this.revokeAll(em, userId, purpose);
    await em.execute(
      `INSERT INTO email_tokens (id, user_id, purpose, token_hash, expires_at, new_email) VALUES (gen_random_uuid(), ?, ?, ?, now() + make_interval(secs => ?), ?)`,
      [userId, purpose, hashSecret(token), EMAIL_TOKEN_TTL_SECONDS[purpose], newEmail],
    );
    return token;
  }

  /** Uses up an email-change token: its user and the address it confirms, or null. */
  async consumeEmailChange(em: EntityManager, token: string): Promise<{ userId: string; newEmail: string } | null> {
    const rows: { user_id: string; new_email: string }[] = await em.execute(
      `UPDATE email_tokens SET used_at = now()
        WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > now() AND new_email IS NOT NULL RETURNING user_id, new_email`,
      [hashSecret(token), EmailTokenPurpose.ChangeEmail],
    );
    return rows[0] ? { userId: rows[0].user_id, newEmail: rows[0].new_email } : null;
  }

  /** Marks the token used, atomically; returns its user, or null if bad, used or expired. */
  async consume(em: EntityManager, token: string, purpose: EmailTokenPurpose): Promise<string | null> {
    const rows: { user_id: string }[] = await em.execute(
      `UPDATE email_tokens SET used_at = now()
        WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > now() RETURNING user_id`,
      [hashSecret(token), purpose],
    );
    return rows[0]?.user_id ?? null;
  }

  /** Whether the token would be accepted, without using it up. */
  async peek(em: EntityManager, token: string, purpose: EmailTokenPurpose): Promise<string | null> {
    const rows: { user_id: string }[] = await em.execute(
      'SELECT user_id FROM email_tokens WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > now()',
      [hashSecret(token), purpose],
    );
    return rows[0]?.user_id ?? null;
  }

  async revokeAll(em: EntityManager, userId: string, purpose: EmailTokenPurpose): Promise<void> {
    await em.execute('UPDATE email_tokens SET used_at = now() WHERE user_id = ? AND purpose = ? AND used_at IS NULL', [userId, purpose]);
  }
}
