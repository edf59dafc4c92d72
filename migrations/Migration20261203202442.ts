import { Migration } from '@mikro-orm/migrations';

/**
 * Recovery codes get an identifier (their first group): a use checks one hash. Codes issued before
 * keep lookup NULL and are checked the old way (every such code of the user) until regenerated.
 */
export class Migration20261203202442 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table "recovery_codes" add column "lookup" varchar(4) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "recovery_codes" drop column "lookup";`);
  }

}
