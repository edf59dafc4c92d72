import { Migration } from '@mikro-orm/migrations';

export class Migration20261203194407 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "oidc_clients" ("id" uuid not null, "client_id" varchar(64) not null, "name" varchar(100) not null, "secret_hash" text null, "redirect_uris" jsonb not null, "post_logout_redirect_uris" jsonb not null, "grant_types" jsonb not null, "scopes" jsonb not null, "resources" jsonb not null, "first_party" boolean not null default false, "backchannel_logout_uri" varchar(2048) null, "access_token_ttl" int null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "oidc_clients_pkey" primary key ("id"));`);
    this.addSql(`alter table "oidc_clients" add constraint "oidc_clients_client_id_unique" unique ("client_id");`);

    this.addSql(`create table "oidc_models" ("model" varchar(40) not null, "id" varchar(255) not null, "payload" jsonb not null, "grant_id" varchar(255) null, "user_code" varchar(255) null, "uid" varchar(255) null, "expires_at" timestamptz null, "consumed_at" timestamptz null, "session_id" uuid null, constraint "oidc_models_pkey" primary key ("model", "id"));`);
    this.addSql(`create index "oidc_models_expires_at_index" on "oidc_models" ("expires_at");`);
    this.addSql(`create index "oidc_models_session_id_index" on "oidc_models" ("session_id") where "session_id" is not null;`);
    this.addSql(`create index "oidc_models_user_code_index" on "oidc_models" ("user_code") where "user_code" is not null;`);
    this.addSql(`create index "oidc_models_uid_index" on "oidc_models" ("uid") where "uid" is not null;`);
    this.addSql(`create index "oidc_models_grant_id_index" on "oidc_models" ("grant_id") where "grant_id" is not null;`);

    this.addSql(`create table "resource_servers" ("id" uuid not null, "name" varchar(100) not null, "audience" varchar(255) not null, "scopes" jsonb not null, "access_token_ttl" int null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "resource_servers_pkey" primary key ("id"));`);
    this.addSql(`alter table "resource_servers" add constraint "resource_servers_audience_unique" unique ("audience");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "oidc_clients" cascade;`);

    this.addSql(`drop table if exists "oidc_models" cascade;`);

    this.addSql(`drop table if exists "resource_servers" cascade;`);
  }

}
