import { Migration } from '@mikro-orm/migrations';

/** Email change: a link token of its own purpose that carries the new address until it is confirmed. */
export class Migration20261203200000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "email_tokens" drop constraint if exists "email_tokens_purpose_check";`);
    this.addSql(`alter table "email_tokens" add constraint "email_tokens_purpose_check" check ("purpose" in ('verify_email', 'reset_password', 'change_email'));`);
    this.addSql(`alter table "email_tokens" add column "new_email" varchar(254) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`delete from "email_tokens" where "purpose" = 'change_email';`);
    this.addSql(`alter table "email_tokens" drop column "new_email";`);
    this.addSql(`alter table "email_tokens" drop constraint if exists "email_tokens_purpose_check";`);
    this.addSql(`alter table "email_tokens" add constraint "email_tokens_purpose_check" check ("purpose" in ('verify_email', 'reset_password'));`);
  }
}
