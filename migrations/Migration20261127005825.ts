import { Migration } from '@mikro-orm/migrations';

export class Migration20261127005825 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "audit_events" ("id" uuid not null, "type" varchar(64) not null, "at" timestamptz not null default now(), "actor_id" uuid null, "target_type" varchar(32) null, "target_id" varchar(64) null, "ip" varchar(64) null, "user_agent" varchar(512) null, "request_id" varchar(128) null, "outcome" varchar(16) not null, "details" jsonb not null default '{}', constraint "audit_events_pkey" primary key ("id"));`);
    this.addSql(`create index "audit_events_at_index" on "audit_events" ("at");`);
    this.addSql(`create index "audit_events_target_id_at_index" on "audit_events" ("target_id", "at");`);
    this.addSql(`create index "audit_events_actor_id_at_index" on "audit_events" ("actor_id", "at");`);
    this.addSql(`create index "audit_events_type_at_index" on "audit_events" ("type", "at");`);

    this.addSql(`create table "roles" ("id" uuid not null, "name" varchar(64) not null, "description" varchar(500) not null default '', "permissions" jsonb not null default '[]', "require_mfa" boolean not null default false, "built_in" boolean not null default false, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "roles_pkey" primary key ("id"));`);
    this.addSql(`alter table "roles" add constraint "roles_name_unique" unique ("name");`);

    this.addSql(`create table "sessions" ("id" uuid not null, "user_id" uuid not null, "created_at" timestamptz not null default now(), "last_used_at" timestamptz not null default now(), "expires_at" timestamptz not null, "auth_time" timestamptz not null, "amr" jsonb not null, "ip" varchar(64) null, "user_agent" varchar(512) null, "cookie_secret_hash" varchar(64) null, "revoked_at" timestamptz null, "revoked_reason" varchar(64) null, constraint "sessions_pkey" primary key ("id"));`);
    this.addSql(`create index "sessions_user_id_index" on "sessions" ("user_id");`);
    this.addSql(`alter table "sessions" add constraint "sessions_cookie_secret_hash_unique" unique ("cookie_secret_hash");`);
    this.addSql(`create index "sessions_revoked_at_index" on "sessions" ("revoked_at");`);

    this.addSql(`create table "refresh_tokens" ("id" uuid not null, "session_id" uuid not null, "token_hash" varchar(64) not null, "parent_id" uuid null, "created_at" timestamptz not null default now(), "rotated_at" timestamptz null, constraint "refresh_tokens_pkey" primary key ("id"));`);
    this.addSql(`create index "refresh_tokens_session_id_index" on "refresh_tokens" ("session_id");`);
    this.addSql(`alter table "refresh_tokens" add constraint "refresh_tokens_token_hash_unique" unique ("token_hash");`);

    this.addSql(`create table "email_tokens" ("id" uuid not null, "user_id" uuid not null, "purpose" text check ("purpose" in ('verify_email', 'reset_password')) not null, "token_hash" varchar(64) not null, "expires_at" timestamptz not null, "used_at" timestamptz null, "created_at" timestamptz not null default now(), constraint "email_tokens_pkey" primary key ("id"));`);
    this.addSql(`alter table "email_tokens" add constraint "email_tokens_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "email_tokens_user_id_purpose_index" on "email_tokens" ("user_id", "purpose");`);

    this.addSql(`create table "user_roles" ("user_id" uuid not null, "role_id" uuid not null, constraint "user_roles_pkey" primary key ("user_id", "role_id"));`);

    this.addSql(`alter table "sessions" add constraint "sessions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "refresh_tokens" add constraint "refresh_tokens_session_id_foreign" foreign key ("session_id") references "sessions" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "email_tokens" add constraint "email_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "user_roles" add constraint "user_roles_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "user_roles" add constraint "user_roles_role_id_foreign" foreign key ("role_id") references "roles" ("id") on update cascade on delete cascade;`);

    // Hand-written: the audit log is append-only for every database role, superusers included
    // (grants alone would not bind a superuser application role).
    this.addSql(`create function "audit_events_append_only"() returns trigger language plpgsql as $$ begin raise exception 'audit_events is append-only' using errcode = '42501'; end $$;`);
    this.addSql(`create trigger "audit_events_no_update_delete" before update or delete on "audit_events" for each row execute function "audit_events_append_only"();`);
    this.addSql(`create trigger "audit_events_no_truncate" before truncate on "audit_events" for each statement execute function "audit_events_append_only"();`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "user_roles" drop constraint "user_roles_role_id_foreign";`);

    this.addSql(`alter table "refresh_tokens" drop constraint "refresh_tokens_session_id_foreign";`);

    this.addSql(`drop table if exists "audit_events" cascade;`);
    this.addSql(`drop function if exists "audit_events_append_only"();`);

    this.addSql(`drop table if exists "roles" cascade;`);

    this.addSql(`drop table if exists "sessions" cascade;`);

    this.addSql(`drop table if exists "refresh_tokens" cascade;`);

    this.addSql(`drop table if exists "email_tokens" cascade;`);

    this.addSql(`drop table if exists "user_roles" cascade;`);
  }

}
