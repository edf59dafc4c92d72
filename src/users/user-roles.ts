import type { EntityManager } from '@mikro-orm/postgresql';

export const DEFAULT_ROLE = 'viewer';

/** Gives a user roles by name (unknown names are ignored; existing grants are kept). */
export async function grantRoles(em: EntityManager, userId: string, roleNames: string[]): Promise<void> {
  if (!roleNames.length) return;
  await em.execute(
    `INSERT INTO user_roles (user_id, role_id) SELECT ?, id FROM roles WHERE name = ANY(?::text[]) ON CONFLICT DO NOTHING`,
    [userId, `{${roleNames.map((n) => `"${n.replace(/["\\]/g, '')}"`).join(',')}}`],
  );
}
