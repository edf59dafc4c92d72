import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { hashSecret, randomSecret } from '../../common/crypto/secrets';

export const MFA_CHALLENGE_TTL_SECONDS = 300;
export const MFA_CHALLENGE_MAX_ATTEMPTS = 5;

export interface OpenChallenge {
  id: string;
  userId: string;
  amr: string[];
}

/**
 * `mfaToken`: an opaque 256-bit secret (stored hashed) for the second step of one sign-in. Its
 * purpose is fixed by where it is stored — it can never pass as an access token. 5 minutes, 5
 * attempts (then even a right code fails), single use.
 */
@Injectable()
export class MfaChallenges {
  constructor(private readonly em: EntityManager) {}

  /** A new challenge; null (nothing written) when `unlessLocked` and the account is locked now. */
  async open(userId: string, amr: string[], conditions: { unlessLocked?: boolean } = {}): Promise<string | null> {
    const token = randomSecret();
    const rows: unknown[] = await this.em.fork().execute(
      `INSERT INTO mfa_challenges (id, user_id, token_hash, amr, expires_at)
       SELECT gen_random_uuid(), id, ?, ?::jsonb, now() + make_interval(secs => ?) FROM users
        WHERE id = ? AND deleted_at IS NULL AND status <> 'disabled'${conditions.unlessLocked ? ' AND (locked_until IS NULL OR locked_until <= now())' : ''}
       RETURNING id`,
      [hashSecret(token), JSON.stringify(amr), MFA_CHALLENGE_TTL_SECONDS, userId],
    );
    return rows.length ? token : null;
  }

  /** Counts one attempt atomically; null when the token is unknown, used, expired or exhausted. */
  async attempt(token: string): Promise<OpenChallenge | null> {
    const rows: { id: string; user_id: string; amr: string[] }[] = await this.em.fork().execute(
      `UPDATE mfa_challenges SET attempts = attempts + 1
        WHERE token_hash = ? AND used_at IS NULL AND expires_at > now() AND attempts < ? RETURNING id, user_id, amr`,
      [hashSecret(token), MFA_CHALLENGE_MAX_ATTEMPTS],
    );
    return rows[0] ? { id: rows[0].id, userId: rows[0].user_id, amr: rows[0].amr } : null;
  }

  /** Marks the challenge used; false if another request already completed it. */
  async complete(id: string): Promise<boolean> {
    const rows: unknown[] = await this.em.fork().execute('UPDATE mfa_challenges SET used_at = now() WHERE id = ? AND used_at IS NULL RETURNING id', [id]);
    return rows.length === 1;
  }
}
