import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DomainError } from '../../common/problem/domain-error';
import { PasswordHasher } from '../passwords/password-hasher';

export const RECOVERY_CODE_COUNT = 10;
// Crockford-style alphabet without look-alikes (no I, L, O, U): 32 symbols, 5 bits each.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const RECOVERY_CODE_SHAPE = /^[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}$/;

/** 12 symbols = 60 random bits from the CSPRNG, shown as `XXXX-XXXX-XXXX` (ASVS 6.5.2). */
function newCode(): string {
  const bytes = randomBytes(12);
  const symbols = [...bytes].map((b) => ALPHABET[b & 31]).join('');
  return `${symbols.slice(0, 4)}-${symbols.slice(4, 8)}-${symbols.slice(8, 12)}`;
}

export function normalizeRecoveryCode(code: string): string {
  const plain = code.replace(/-/g, '').toUpperCase();
  return `${plain.slice(0, 4)}-${plain.slice(4, 8)}-${plain.slice(8, 12)}`;
}

/** Recovery codes: shown once, stored as Argon2id hashes (ASVS 6.5.3), each usable once. */
@Injectable()
export class RecoveryCodes {
  constructor(private readonly hasher: PasswordHasher) {}

  /**
   * Replaces the user's set inside `tx`; returns the new codes in clear, for the user to keep.
   * The active factor's row is locked first, so concurrent replacements run one after the other
   * and exactly one set survives (without it, each DELETE misses the other's fresh rows).
   */
  async replace(tx: EntityManager, userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
    const hashes = await Promise.all(codes.map((c) => this.hasher.hash(c)));
    const factor: unknown[] = await tx.execute(`SELECT id FROM totp_factors WHERE user_id = ? AND status = 'active' FOR UPDATE`, [userId]);
    if (!factor.length) throw new DomainError('conflict', 'TOTP is not enabled');
    await tx.execute('DELETE FROM recovery_codes WHERE user_id = ?', [userId]);
    for (const hash of hashes) {
      await tx.execute('INSERT INTO recovery_codes (id, user_id, code_hash) VALUES (gen_random_uuid(), ?, ?)', [userId, hash]);
    }
    return codes;
  }

  /** Uses up a matching unused code, atomically (two concurrent uses: one wins). */
  async consume(em: EntityManager, userId: string, code: string): Promise<boolean> {
    if (!RECOVERY_CODE_SHAPE.test(code)) return false;
    const normalized = normalizeRecoveryCode(code);
    const rows: { id: string; code_hash: string }[] = await em.execute('SELECT id, code_hash FROM recovery_codes WHERE user_id = ? AND used_at IS NULL', [userId]);
    const matches = await Promise.all(rows.map((r) => this.hasher.verify(r.code_hash, normalized)));
    const match = rows.find((_, i) => matches[i]);
    if (!match) return false;
    const used: unknown[] = await em.execute('UPDATE recovery_codes SET used_at = now() WHERE id = ? AND used_at IS NULL RETURNING id', [match.id]);
    return used.length === 1;
  }
}
