import { Migration } from '@mikro-orm/migrations';

export class Migration20261127012716 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "oauth_states" ("id" uuid not null, "state_hash" varchar(64) not null, "verifier_ciphertext" text not null, "key_id" varchar(16) not null, "browser_hash" varchar(64) not null, "expires_at" timestamptz not null, constraint "oauth_states_pkey" primary key ("id"));`);
    this.addSql(`alter table "oauth_states" add constraint "oauth_states_state_hash_unique" unique ("state_hash");`);
    this.addSql(`create index "oauth_states_expires_at_index" on "oauth_states" ("expires_at");`);

    this.addSql(`create table "oauth_exchange_codes" ("id" uuid not null, "code_hash" varchar(64) not null, "user_id" uuid not null, "amr" jsonb not null, "expires_at" timestamptz not null, "used_at" timestamptz null, constraint "oauth_exchange_codes_pkey" primary key ("id"));`);
    this.addSql(`alter table "oauth_exchange_codes" add constraint "oauth_exchange_codes_code_hash_unique" unique ("code_hash");`);

    this.addSql(`create table "external_identities" ("id" uuid not null, "provider" varchar(32) not null, "subject" varchar(255) not null, "user_id" uuid not null, "email" varchar(254) not null, "created_at" timestamptz not null default now(), constraint "external_identities_pkey" primary key ("id"));`);
    this.addSql(`create index "external_identities_user_id_index" on "external_identities" ("user_id");`);
    this.addSql(`alter table "external_identities" add constraint "external_identities_provider_subject_unique" unique ("provider", "subject");`);

    this.addSql(`alter table "oauth_exchange_codes" add constraint "oauth_exchange_codes_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "external_identities" add constraint "external_identities_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "oauth_states" cascade;`);

    this.addSql(`drop table if exists "oauth_exchange_codes" cascade;`);

    this.addSql(`drop table if exists "external_identities" cascade;`);
  }

}
