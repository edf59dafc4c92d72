import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { hashSecret, randomSecret } from '../../common/crypto/secrets';

export const WEBAUTHN_CHALLENGE_TTL_SECONDS = 300;

/** Registration is bound to the signed-in user who asked for it; a sign-in challenge to nobody. */
export type ChallengePurpose = { purpose: 'registration'; userId: string } | { purpose: 'authentication' };

/**
 * The challenges of passkey ceremonies: 256 random bits, stored only as their SHA-256, valid 5
 * minutes, and consumed by a single DELETE … RETURNING, so of two concurrent uses exactly one
 * succeeds. The client sends the challenge back inside its signed clientDataJSON, which is how a
 * response names its ceremony — no other token is needed.
 */
@Injectable()
export class WebAuthnChallenges {
  constructor(private readonly em: EntityManager) {}

  /** A new challenge (base64url, as WebAuthn options carry it). */
  async issue(scope: ChallengePurpose): Promise<string> {
    const challenge = randomSecret();
    await this.em.fork().execute(
      `INSERT INTO webauthn_challenges (id, challenge_hash, purpose, user_id, expires_at)
       VALUES (gen_random_uuid(), ?, ?, ?, now() + make_interval(secs => ?))`,
      [hashSecret(challenge), scope.purpose, scope.purpose === 'registration' ? scope.userId : null, WEBAUTHN_CHALLENGE_TTL_SECONDS],
    );
    return challenge;
  }

  /**
   * Uses up the challenge: true only for a live challenge of this purpose (and user). A challenge
   * presented for the wrong purpose or user is left alone, so it cannot be burnt by someone else.
   */
  async consume(challenge: string, scope: ChallengePurpose): Promise<boolean> {
    const rows: unknown[] = await this.em.fork().execute(
      `DELETE FROM webauthn_challenges
        WHERE challenge_hash = ? AND purpose = ? AND user_id IS NOT DISTINCT FROM ? AND expires_at > now()
       RETURNING id`,
      [hashSecret(challenge), scope.purpose, scope.purpose === 'registration' ? scope.userId : null],
    );
    return rows.length === 1;
  }
}
