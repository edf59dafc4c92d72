import type { EntityManager } from '@mikro-orm/postgresql';

/** What oidc-provider stores per artifact (its own shape; only a few fields matter here). */
export interface AdapterPayload {
  grantId?: string;
  userCode?: string;
  uid?: string;
  consumed?: unknown;
  [key: string]: unknown;
}

/** The interface oidc-provider expects of `adapter` (one instance per model name). */
export interface OidcAdapter {
  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<AdapterPayload | undefined>;
  findByUid(uid: string): Promise<AdapterPayload | undefined>;
  findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

interface Row {
  payload: AdapterPayload;
  consumed_at: Date | null;
}

const LIVE = '(expires_at IS NULL OR expires_at > now())';

/**
 * Whether a caller-supplied identifier (a token, a code, a client_id) can be looked up at all:
 * PostgreSQL text cannot hold NUL, and sending one fails the query — a 500 instead of "not found".
 */
export const lookupable = (value: string) => !value.includes('\0');

/**
 * oidc-provider's storage over the one `oidc_models` table, in plain SQL on a fresh fork per call
 * (the provider runs outside any request's unit of work). Expired rows are never returned, and
 * Housekeeping deletes them.
 */
export class PgAdapter implements OidcAdapter {
  constructor(
    private readonly em: EntityManager,
    private readonly model: string,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
    await this.em.fork().execute(
      `INSERT INTO oidc_models (model, id, payload, grant_id, user_code, uid, expires_at)
       VALUES (?, ?, ?::jsonb, ?, ?, ?, ?)
       ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
         user_code = EXCLUDED.user_code, uid = EXCLUDED.uid, expires_at = EXCLUDED.expires_at`,
      [this.model, id, JSON.stringify(payload), payload.grantId ?? null, payload.userCode ?? null, payload.uid ?? null, expiresAt],
    );
  }

  find(id: string): Promise<AdapterPayload | undefined> {
    return this.one(`model = ? AND id = ?`, id);
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.one(`model = ? AND uid = ?`, uid);
  }

  findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.one(`model = ? AND user_code = ?`, userCode);
  }

  async consume(id: string): Promise<void> {
    await this.em.fork().execute(`UPDATE oidc_models SET consumed_at = now() WHERE model = ? AND id = ? AND consumed_at IS NULL`, [this.model, id]);
  }

  async destroy(id: string): Promise<void> {
    await this.em.fork().execute(`DELETE FROM oidc_models WHERE model = ? AND id = ?`, [this.model, id]);
  }

  /** This model's artifacts of a grant (a replayed code, a revoked grant: the provider calls it per model). */
  async revokeByGrantId(grantId: string): Promise<void> {
    await this.em.fork().execute(`DELETE FROM oidc_models WHERE model = ? AND grant_id = ?`, [this.model, grantId]);
  }

  private async one(where: string, value: string): Promise<AdapterPayload | undefined> {
    if (!lookupable(value)) return undefined;
    const rows: Row[] = await this.em.fork().execute(`SELECT payload, consumed_at FROM oidc_models WHERE ${where} AND ${LIVE}`, [this.model, value]);
    if (!rows.length) return undefined;
    const { payload, consumed_at } = rows[0];
    return consumed_at ? { ...payload, consumed: Math.floor(new Date(consumed_at).getTime() / 1000) } : payload;
  }
}
