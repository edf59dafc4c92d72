import type { EntityManager } from '@mikro-orm/postgresql';
import type { FastifyRequest } from 'fastify';
import { hashSecret, randomSecret } from '../../common/crypto/secrets';
import type { SecretBox } from '../mfa/secret-box';
import { type BrowserBinding, OAUTH_FLOW_TTL_SECONDS } from './browser-binding';
import { replyOf } from './fastify-passport';

type StoreCallback = (err: Error | null, state?: string) => void;
type VerifyCallback = (err: Error | null, verifier?: string | false, info?: { message: string }) => void;

export const INVALID_STATE = 'invalid_state';

/**
 * passport-oauth2's PKCE state store, without express-session: the state (256 random bits) and
 * the encrypted code verifier live in PostgreSQL so any instance can finish a flow, and each is
 * deleted as it is used (single use). The browser must also present the signed cookie set at the
 * start; a missing, forged or mismatched cookie, or an unknown, reused or expired state, fails.
 */
export class PgStateStore {
  constructor(
    private readonly em: EntityManager,
    private readonly box: SecretBox,
    private readonly binding: BrowserBinding,
  ) {}

  // passport-oauth2 chooses the PKCE signature by arity: (req, verifier, state, meta, callback).
  store(request: FastifyRequest, verifier: string, _state: unknown, _meta: unknown, callback: StoreCallback): void {
    const reply = replyOf(request);
    if (!reply) return callback(new Error('the Google start route must run through runStrategy'));
    const state = randomSecret();
    const browserHash = this.binding.bind(reply);
    const sealed = this.box.seal(verifier, state);
    this.em
      .fork()
      .execute(
        `INSERT INTO oauth_states (id, state_hash, verifier_ciphertext, key_id, browser_hash, expires_at)
         VALUES (gen_random_uuid(), ?, ?, ?, ?, now() + make_interval(secs => ?))`,
        [hashSecret(state), sealed.ciphertext, sealed.keyId, browserHash, OAUTH_FLOW_TTL_SECONDS],
      )
      .then(() => callback(null, state), (err: Error) => callback(err));
  }

  verify(request: FastifyRequest, state: unknown, callback: VerifyCallback): void {
    const fail = () => callback(null, false, { message: INVALID_STATE });
    if (typeof state !== 'string' || state.length < 16 || state.length > 128) return fail();
    const browserHash = this.binding.read(request);
    this.em
      .fork()
      .execute('DELETE FROM oauth_states WHERE state_hash = ? RETURNING verifier_ciphertext, key_id, browser_hash, expires_at', [hashSecret(state)])
      .then((rows) => {
        const row = rows[0] as { verifier_ciphertext: string; key_id: string; browser_hash: string; expires_at: Date } | undefined;
        if (!row || !browserHash || row.browser_hash !== browserHash || new Date(row.expires_at).getTime() <= Date.now()) return fail();
        let verifier: string;
        try {
          // Throws when the verifier was sealed under a key this instance lacks (MFA_ENCRYPTION_KEY
          // differs between instances, or was rotated without MFA_PREVIOUS_ENCRYPTION_KEYS). Thrown
          // here, inside .then(), it would never reach passport and the request would hang.
          verifier = this.box.open({ keyId: row.key_id, ciphertext: row.verifier_ciphertext }, state);
        } catch (err) {
          return callback(err as Error);
        }
        callback(null, verifier);
      }, (err: Error) => callback(err));
  }
}
