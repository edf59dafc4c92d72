import type { EntityManager } from '@mikro-orm/postgresql';
import { MikroORM } from '@mikro-orm/core';
import { PasswordHasher } from '../../src/auth/passwords/password-hasher';
import { RoleSeeder } from '../../src/policies/role-seeder';
import { grantRoles } from '../../src/users/user-roles';
import type { TestApp } from './test-app';

export const STRONG_PASSWORD = 'correct horse battery staple';

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}.${Date.now().toString(36)}.${counter}@example.com`;
}

export function em(t: TestApp): EntityManager {
  return t.app.get(MikroORM).em.fork() as EntityManager;
}

export interface CreatedUser {
  id: string;
  email: string;
  password: string;
}

/** An active, verified user straight in the database (faster than the registration flow). */
export async function createUser(
  t: TestApp,
  options: { email?: string; password?: string; roles?: string[]; status?: 'pending' | 'active' | 'disabled'; emailVerified?: boolean; departmentId?: string | null } = {},
): Promise<CreatedUser> {
  const email = options.email ?? uniqueEmail();
  const password = options.password ?? STRONG_PASSWORD;
  const hash = await t.app.get(PasswordHasher).hash(password);
  await t.app.get(RoleSeeder).ensureBuiltIns();
  const manager = em(t);
  const [row] = await manager.execute(
    `INSERT INTO users (id, email, display_name, email_verified, status, password_hash, department_id)
     VALUES (gen_random_uuid(), ?, ?, ?, ?, ?, ?) RETURNING id`,
    [email, 'Test User', options.emailVerified ?? true, options.status ?? 'active', hash, options.departmentId ?? null],
  );
  await grantRoles(manager, row.id, options.roles ?? ['viewer']);
  return { id: row.id, email, password };
}

export async function login(t: TestApp, email: string, password: string, mode?: 'cookie') {
  return t.app.inject({ method: 'POST', url: `/api/v1/auth/login${mode ? `?mode=${mode}` : ''}`, payload: { email, password } });
}

export async function loginTokens(t: TestApp, user: CreatedUser): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await login(t, user.email, user.password);
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
