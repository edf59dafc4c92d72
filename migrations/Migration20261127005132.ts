import { Migration } from '@mikro-orm/migrations';

export class Migration20261127005132 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "users" ("id" uuid not null, "email" varchar(254) not null, "display_name" varchar(100) not null, "email_verified" boolean not null default false, "status" text check ("status" in ('pending', 'active', 'disabled')) not null default 'pending', "password_hash" text null, "department_id" uuid null, "failed_login_count" int not null default 0, "lock_count" int not null default 0, "locked_until" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "deleted_at" timestamptz null, constraint "users_pkey" primary key ("id"));`);
    this.addSql(`alter table "users" add constraint "users_email_unique" unique ("email");`);
    this.addSql(`create index "users_department_id_index" on "users" ("department_id");`);
    this.addSql(`create index "users_deleted_at_index" on "users" ("deleted_at");`);
  }

}
