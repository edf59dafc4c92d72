import { Migration } from '@mikro-orm/migrations';

/** Cookie rotation with a grace window: the previous secret's hash, the rotation's salt and time. */
export class Migration20261203200107 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "sessions" add column "cookie_previous_hash" varchar(64) null, add column "cookie_rotation_salt" varchar(64) null, add column "cookie_rotated_at" timestamptz null;`);
    this.addSql(`alter table "sessions" add constraint "sessions_cookie_previous_hash_unique" unique ("cookie_previous_hash");`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "sessions" drop constraint "sessions_cookie_previous_hash_unique";`);
    this.addSql(`alter table "sessions" drop column "cookie_previous_hash", drop column "cookie_rotation_salt", drop column "cookie_rotated_at";`);
  }

}
