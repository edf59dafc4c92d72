import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { BUILT_IN_ROLES } from './built-in-roles';

/** Inserts missing built-in roles at start; an existing role (edited or not) is never touched. */
@Injectable()
export class RoleSeeder implements OnApplicationBootstrap {
  private seeded?: Promise<void>;

  constructor(private readonly em: EntityManager) {}

  onApplicationBootstrap(): Promise<void> {
    return this.ensureBuiltIns();
  }

  ensureBuiltIns(): Promise<void> {
    this.seeded ??= (async () => {
      const em = this.em.fork();
      for (const role of BUILT_IN_ROLES) {
        await em.execute(
          `INSERT INTO roles (id, name, description, permissions, require_mfa, built_in) VALUES (gen_random_uuid(), ?, ?, ?::jsonb, false, true)
           ON CONFLICT (name) DO NOTHING`,
          [role.name, role.description, JSON.stringify(role.permissions)],
        );
      }
    })();
    return this.seeded;
  }
}
