import { Migration } from '@mikro-orm/migrations';

/**
 * Passkeys: a user's WebAuthn credentials (id = the credential ID, base64url) and the challenges of
 * ceremonies in flight — stored hashed, 5 minutes, deleted when used (single use).
 */
export class Migration20261203210000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "passkey_credentials" ("id" varchar(1400) not null, "user_id" uuid not null, "public_key" bytea not null, "counter" bigint not null default 0, "transports" jsonb not null default '[]', "device_type" varchar(16) not null, "backed_up" boolean not null, "aaguid" varchar(36) not null, "name" varchar(100) not null, "created_at" timestamptz not null default now(), "last_used_at" timestamptz null, constraint "passkey_credentials_pkey" primary key ("id"));`);
    this.addSql(`create index "passkey_credentials_user_id_index" on "passkey_credentials" ("user_id");`);
    this.addSql(`alter table "passkey_credentials" add constraint "passkey_credentials_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`create table "webauthn_challenges" ("id" uuid not null, "challenge_hash" varchar(64) not null, "purpose" varchar(16) not null, "user_id" uuid null, "expires_at" timestamptz not null, "created_at" timestamptz not null default now(), constraint "webauthn_challenges_pkey" primary key ("id"));`);
    this.addSql(`alter table "webauthn_challenges" add constraint "webauthn_challenges_challenge_hash_unique" unique ("challenge_hash");`);
    this.addSql(`create index "webauthn_challenges_expires_at_index" on "webauthn_challenges" ("expires_at");`);
    this.addSql(`alter table "webauthn_challenges" add constraint "webauthn_challenges_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "webauthn_challenges" cascade;`);
    this.addSql(`drop table if exists "passkey_credentials" cascade;`);
  }

}
