import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DomainError } from '../../common/problem/domain-error';
import { PasswordHasher } from '../passwords/password-hasher';

export const RECOVERY_CODE_COUNT = 10;
// Crockford-style alphabet without look-alikes (no I, L, O, U): 32 symbols, 5 bits each.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const GROUP = '[0-9A-Za-z]{4}';
/** `IIII-SSSS-SSSS-SSSS` (current) or `SSSS-SSSS-SSSS` (issued before identifiers; dashes optional, any case). */
export const RECOVERY_CODE_SHAPE = new RegExp(`^${GROUP}(?:-?${GROUP}){2,3}$`);

function randomSymbols(count: number): string {
  return [...randomBytes(count)].map((b) => ALPHABET[b & 31]).join('');
}

/** Groups of four, dash-separated, upper case: how codes are shown and hashed. */
function grouped(plain: string): string {
  return plain.match(/.{4}/g)!.join('-');
}

/**
 * A set of codes `IIII-SSSS-SSSS-SSSS`: the first group identifies the code within the user's set
 * (20 bits, distinct within the set, stored in clear), the rest is 60 random bits from the CSPRNG
 * (ASVS 6.5.2). The whole code is hashed; the identifier lets a use check one hash, not ten.
 */
function newCodeSet(): { code: string; lookup: string }[] {
  const lookups = new Set<string>();
  while (lookups.size < RECOVERY_CODE_COUNT) lookups.add(randomSymbols(4));
  return [...lookups].map((lookup) => ({ lookup, code: grouped(`${lookup}${randomSymbols(12)}`) }));
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
    const codes = newCodeSet();
    const hashes = await Promise.all(codes.map((c) => this.hasher.hash(c.code)));
    const factor: unknown[] = await tx.execute(`SELECT id FROM totp_factors WHERE user_id = ? AND status = 'active' FOR UPDATE`, [userId]);
    if (!factor.length) throw new DomainError('conflict', 'TOTP is not enabled');
    await tx.execute('DELETE FROM recovery_codes WHERE user_id = ?', [userId]);
    for (const [i, hash] of hashes.entries()) {
      await tx.execute('INSERT INTO recovery_codes (id, user_id, lookup, code_hash) VALUES (gen_random_uuid(), ?, ?, ?)', [userId, codes[i].lookup, hash]);
    }
    return codes.map((c) => c.code);
  }

  /**
   * Uses up a matching unused code, atomically (two concurrent uses: one wins). A current code is
   * found by its identifier and checked with one hash (a dummy one when no code has that
   * identifier, so the cost is the same); a code issued before identifiers existed (stored without
   * one) is checked against the user's other such codes, until the set is regenerated.
   */
  async consume(em: EntityManager, userId: string, code: string): Promise<boolean> {
    if (!RECOVERY_CODE_SHAPE.test(code)) return false;
    const plain = code.replace(/-/g, '').toUpperCase();
    const lookup = plain.length === 16 ? plain.slice(0, 4) : null;
    const rows: { id: string; code_hash: string }[] = lookup
      ? await em.execute('SELECT id, code_hash FROM recovery_codes WHERE user_id = ? AND lookup = ? AND used_at IS NULL', [userId, lookup])
      : await em.execute('SELECT id, code_hash FROM recovery_codes WHERE user_id = ? AND lookup IS NULL AND used_at IS NULL', [userId]);
    if (!rows.length) return this.hasher.verifyAgainstDummy(plain);
    const matches = await Promise.all(rows.map((r) => this.hasher.verify(r.code_hash, grouped(plain))));
    const match = rows.find((_, i) => matches[i]);
    if (!match) return false;
    const used: unknown[] = await em.execute('UPDATE recovery_codes SET used_at = now() WHERE id = ? AND used_at IS NULL RETURNING id', [match.id]);
    return used.length === 1;
  }
}
