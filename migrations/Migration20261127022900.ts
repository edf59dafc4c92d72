import { Migration } from '@mikro-orm/migrations';

/**
 * Hand-written: the remaining text columns that policy conditions may compare get the "C"
 * collation, so PostgreSQL orders them by code point exactly as the in-memory matcher does.
 */
export class Migration20261127022900 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "documents" alter column "body" type text collate "C";`);
    this.addSql(`alter table "sessions" alter column "ip" type varchar(64) collate "C";`);
    this.addSql(`alter table "sessions" alter column "user_agent" type varchar(512) collate "C";`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "documents" alter column "body" type text collate "default";`);
    this.addSql(`alter table "sessions" alter column "ip" type varchar(64) collate "default";`);
    this.addSql(`alter table "sessions" alter column "user_agent" type varchar(512) collate "default";`);
  }
}
