import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * Everything oidc-provider stores (sessions, interactions, codes, tokens, grants, replay
 * records), one row per artifact, read and written with plain SQL by PgAdapter. `sessionId` links
 * a Grant to the Bastion session it was given in, so ending that session ends the grant.
 */
@Entity({ tableName: 'oidc_models' })
@Index({ name: 'oidc_models_grant_id_index', expression: 'create index "oidc_models_grant_id_index" on "oidc_models" ("grant_id") where "grant_id" is not null' })
@Index({ name: 'oidc_models_uid_index', expression: 'create index "oidc_models_uid_index" on "oidc_models" ("uid") where "uid" is not null' })
@Index({ name: 'oidc_models_user_code_index', expression: 'create index "oidc_models_user_code_index" on "oidc_models" ("user_code") where "user_code" is not null' })
@Index({ name: 'oidc_models_session_id_index', expression: 'create index "oidc_models_session_id_index" on "oidc_models" ("session_id") where "session_id" is not null' })
@Index({ properties: ['expiresAt'] })
export class OidcModel {
  @PrimaryKey({ type: 'string', length: 40 })
  model!: string;

  @PrimaryKey({ type: 'string', length: 255 })
  id!: string;

  @Property({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  @Property({ type: 'string', length: 255, nullable: true })
  grantId?: string | null;

  @Property({ type: 'string', length: 255, nullable: true })
  userCode?: string | null;

  @Property({ type: 'string', length: 255, nullable: true })
  uid?: string | null;

  @Property({ type: 'timestamptz', nullable: true })
  expiresAt?: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  consumedAt?: Date | null;

  @Property({ type: 'uuid', nullable: true })
  sessionId?: string | null;
}
