import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import { generateSecret, generateURI, verify } from 'otplib';
import { toDataURL } from 'qrcode';
import { AppConfig } from '../../config/app-config';
import { RecoveryCodes } from './recovery-codes';
import { SecretBox } from './secret-box';

export const TOTP_PERIOD = 30;
export const TOTP_CODE = /^\d{6}$/;

/** SQL: the user (an SQL expression for its id) has an active TOTP factor. */
export const activeTotpFactor = (userId: string) => `EXISTS (SELECT 1 FROM totp_factors f WHERE f.user_id = ${userId} AND f.status = 'active')`;

export interface TotpEnrolment {
  secret: string;
  otpauthUri: string;
  qrCodeDataUrl: string;
}

interface FactorRow {
  status: 'pending' | 'active';
  secret_ciphertext: string;
  key_id: string;
  last_used_step: string | null;
}

/**
 * RFC 6238 TOTP (SHA-1, 6 digits, 30 s, ±1 step) with otplib. Each accepted time step is recorded
 * with `UPDATE … WHERE last_used_step < :step`, so a code works once even under concurrency
 * (ASVS 6.5.1).
 */
@Injectable()
export class TotpService {
  constructor(
    private readonly em: EntityManager,
    private readonly box: SecretBox,
    private readonly recoveryCodes: RecoveryCodes,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  async isEnabled(userId: string, em: EntityManager = this.em.fork()): Promise<boolean> {
    const rows: { enabled: boolean }[] = await em.execute(`SELECT ${activeTotpFactor('?')} AS enabled`, [userId]);
    return rows[0].enabled === true;
  }

  /** A new pending secret (160 random bits), replacing any earlier pending one. */
  async startEnrolment(userId: string, email: string): Promise<TotpEnrolment | null> {
    const secret = generateSecret({ length: 20 });
    const sealed = this.box.seal(secret, userId);
    const em = this.em.fork();
    const rows: unknown[] = await em.execute(
      `INSERT INTO totp_factors (id, user_id, status, secret_ciphertext, key_id) VALUES (gen_random_uuid(), ?, 'pending', ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET secret_ciphertext = EXCLUDED.secret_ciphertext, key_id = EXCLUDED.key_id, created_at = now(), last_used_step = NULL
       WHERE totp_factors.status = 'pending' RETURNING id`,
      [userId, sealed.ciphertext, sealed.keyId],
    );
    if (!rows.length) return null;
    const otpauthUri = generateURI({ issuer: this.config.mfa.issuer, label: email, secret });
    return { secret, otpauthUri, qrCodeDataUrl: await toDataURL(otpauthUri, { errorCorrectionLevel: 'M', margin: 2 }) };
  }

  /**
   * Activates the pending factor if `code` is valid for it, and issues the recovery codes — all in
   * one transaction whose `WHERE status = 'pending'` lets exactly one concurrent call win.
   */
  async enable(userId: string, code: string): Promise<string[] | 'invalid' | 'conflict'> {
    return this.em.fork().transactional(async (tx) => {
      const factor = await this.factor(tx, userId, true);
      if (!factor || factor.status !== 'pending') return 'conflict';
      const step = await this.matchStep(userId, factor, code);
      if (step === null) return 'invalid';
      const activated: unknown[] = await tx.execute(
        `UPDATE totp_factors SET status = 'active', enabled_at = now(), last_used_step = ? WHERE user_id = ? AND status = 'pending' RETURNING id`,
        [step, userId],
      );
      if (!activated.length) return 'conflict';
      return this.recoveryCodes.replace(tx, userId);
    });
  }

  /** Verifies a code against the active factor and uses up its time step. */
  async verifyAndConsume(userId: string, code: string, em: EntityManager = this.em.fork()): Promise<boolean> {
    const factor = await this.factor(em, userId);
    if (!factor || factor.status !== 'active') return false;
    const step = await this.matchStep(userId, factor, code);
    if (step === null) return false;
    const updated: unknown[] = await em.execute(
      `UPDATE totp_factors SET last_used_step = ? WHERE user_id = ? AND status = 'active' AND (last_used_step IS NULL OR last_used_step < ?) RETURNING id`,
      [step, userId, step],
    );
    return updated.length === 1;
  }

  async remove(tx: EntityManager, userId: string): Promise<void> {
    await tx.execute('DELETE FROM totp_factors WHERE user_id = ?', [userId]);
    await tx.execute('DELETE FROM recovery_codes WHERE user_id = ?', [userId]);
  }

  private async factor(em: EntityManager, userId: string, lock = false): Promise<FactorRow | undefined> {
    const rows: FactorRow[] = await em.execute(
      `SELECT status, secret_ciphertext, key_id, last_used_step FROM totp_factors WHERE user_id = ?${lock ? ' FOR UPDATE' : ''}`,
      [userId],
    );
    return rows[0];
  }

  /** The time step `code` belongs to (within ±1 step and after the last used one), or null. */
  private async matchStep(userId: string, factor: FactorRow, code: string): Promise<number | null> {
    if (!TOTP_CODE.test(code)) return null;
    const secret = this.box.open({ keyId: factor.key_id, ciphertext: factor.secret_ciphertext }, userId);
    const after = factor.last_used_step === null ? undefined : Number(factor.last_used_step);
    try {
      const result = await verify({ secret, token: code, epochTolerance: TOTP_PERIOD, ...(after !== undefined ? { afterTimeStep: after } : {}) });
      return result.valid ? (result as { timeStep: number }).timeStep : null;
    } catch {
      return null;
    }
  }
}
