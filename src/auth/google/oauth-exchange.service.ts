import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { hashSecret, randomSecret } from '../../common/crypto/secrets';

export const EXCHANGE_CODE_TTL_SECONDS = 60;

/** The one-time code of OAUTH_SUCCESS_REDIRECT: ≥ 128 bits (here 256), stored hashed, 60 s, single use. */
@Injectable()
export class OAuthExchangeService {
  constructor(private readonly em: EntityManager) {}

  async issue(userId: string, amr: string[]): Promise<string> {
    const code = randomSecret();
    await this.em.fork().execute(
      `INSERT INTO oauth_exchange_codes (id, code_hash, user_id, amr, expires_at) VALUES (gen_random_uuid(), ?, ?, ?::jsonb, now() + make_interval(secs => ?))`,
      [hashSecret(code), userId, JSON.stringify(amr), EXCHANGE_CODE_TTL_SECONDS],
    );
    return code;
  }

  async redeem(code: string): Promise<{ userId: string; amr: string[] } | null> {
    const rows: { user_id: string; amr: string[] }[] = await this.em.fork().execute(
      'UPDATE oauth_exchange_codes SET used_at = now() WHERE code_hash = ? AND used_at IS NULL AND expires_at > now() RETURNING user_id, amr',
      [hashSecret(code)],
    );
    return rows[0] ? { userId: rows[0].user_id, amr: rows[0].amr } : null;
  }
}
