import { Migration } from '@mikro-orm/migrations';

export class Migration20261127012048 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "totp_factors" ("id" uuid not null, "user_id" uuid not null, "status" text check ("status" in ('pending', 'active')) not null, "secret_ciphertext" text not null, "key_id" varchar(16) not null, "last_used_step" bigint null, "created_at" timestamptz not null default now(), "enabled_at" timestamptz null, constraint "totp_factors_pkey" primary key ("id"));`);
    this.addSql(`alter table "totp_factors" add constraint "totp_factors_user_id_unique" unique ("user_id");`);

    this.addSql(`create table "recovery_codes" ("id" uuid not null, "user_id" uuid not null, "code_hash" text not null, "used_at" timestamptz null, "created_at" timestamptz not null default now(), constraint "recovery_codes_pkey" primary key ("id"));`);
    this.addSql(`create index "recovery_codes_user_id_used_at_index" on "recovery_codes" ("user_id", "used_at");`);

    this.addSql(`create table "mfa_challenges" ("id" uuid not null, "user_id" uuid not null, "token_hash" varchar(64) not null, "amr" jsonb not null, "attempts" int not null default 0, "expires_at" timestamptz not null, "used_at" timestamptz null, "created_at" timestamptz not null default now(), constraint "mfa_challenges_pkey" primary key ("id"));`);
    this.addSql(`create index "mfa_challenges_user_id_index" on "mfa_challenges" ("user_id");`);
    this.addSql(`alter table "mfa_challenges" add constraint "mfa_challenges_token_hash_unique" unique ("token_hash");`);

    this.addSql(`alter table "totp_factors" add constraint "totp_factors_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "recovery_codes" add constraint "recovery_codes_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "mfa_challenges" add constraint "mfa_challenges_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "totp_factors" cascade;`);

    this.addSql(`drop table if exists "recovery_codes" cascade;`);

    this.addSql(`drop table if exists "mfa_challenges" cascade;`);

  }

}
