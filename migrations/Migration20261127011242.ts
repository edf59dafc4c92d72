import { Migration } from '@mikro-orm/migrations';

export class Migration20261127011242 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "departments" ("id" uuid not null, "name" varchar(100) not null, "created_at" timestamptz not null default now(), constraint "departments_pkey" primary key ("id"));`);
    this.addSql(`alter table "departments" add constraint "departments_name_unique" unique ("name");`);

    this.addSql(`create table "documents" ("id" uuid not null, "title" varchar(200) not null, "body" text not null, "status" text check ("status" in ('draft', 'published', 'archived')) not null default 'draft', "classification" text check ("classification" in ('public', 'internal', 'confidential')) not null default 'internal', "department_id" uuid not null, "owner_id" uuid not null, "version" int not null default 1, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "documents_pkey" primary key ("id"));`);
    this.addSql(`create index "documents_created_at_id_index" on "documents" ("created_at", "id");`);
    this.addSql(`create index "documents_owner_id_status_index" on "documents" ("owner_id", "status");`);
    this.addSql(`create index "documents_department_id_status_classification_created_at_index" on "documents" ("department_id", "status", "classification", "created_at");`);

    // Hand-written: referential integrity the entities keep as plain ids.
    this.addSql(`alter table "documents" add constraint "documents_department_id_foreign" foreign key ("department_id") references "departments" ("id") on delete restrict;`);
    this.addSql(`alter table "documents" add constraint "documents_owner_id_foreign" foreign key ("owner_id") references "users" ("id") on delete restrict;`);
    this.addSql(`alter table "users" add constraint "users_department_id_foreign" foreign key ("department_id") references "departments" ("id") on delete set null;`);

    // Hand-written: policy conditions compare strings by code point in memory (CASL) and in SQL;
    // "C" collation makes PostgreSQL order these columns the same way.
    const collateC: [string, string, string][] = [
      ['documents', 'title', 'varchar(200)'], ['documents', 'status', 'text'], ['documents', 'classification', 'text'],
      ['departments', 'name', 'varchar(100)'],
      ['users', 'email', 'varchar(254)'], ['users', 'display_name', 'varchar(100)'], ['users', 'status', 'text'],
      ['roles', 'name', 'varchar(64)'], ['roles', 'description', 'varchar(500)'],
      ['audit_events', 'type', 'varchar(64)'], ['audit_events', 'target_type', 'varchar(32)'], ['audit_events', 'target_id', 'varchar(64)'],
      ['audit_events', 'ip', 'varchar(64)'], ['audit_events', 'user_agent', 'varchar(512)'], ['audit_events', 'request_id', 'varchar(128)'],
      ['audit_events', 'outcome', 'varchar(16)'],
    ];
    for (const [table, column, type] of collateC) {
      this.addSql(`alter table "${table}" alter column "${column}" type ${type} collate "C";`);
    }
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "departments" cascade;`);

    this.addSql(`drop table if exists "documents" cascade;`);
  }

}
