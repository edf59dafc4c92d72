import { bearer, createUser, type CreatedUser, loginTokens } from '../support/auth-helpers';
import type { TestApp } from '../support/test-app';
import type { FuzzContext } from './requests';

export interface FuzzWorld {
  admin: CreatedUser;
  viewer: CreatedUser;
  /** An active editor whose address public routes get; it never signs in during the fuzz. */
  victim: CreatedUser;
  adminToken: string;
  ctx: FuzzContext;
}

/**
 * Rows for the fuzzed ids to hit: two departments, three documents (one published), a custom
 * role next to the built-ins, an active and a pending user, and a live session of the victim.
 */
export async function seedFuzzWorld(t: TestApp): Promise<FuzzWorld> {
  const admin = await createUser(t, { roles: ['admin'] });
  const adminToken = (await loginTokens(t, admin)).accessToken;
  const asAdmin = async (method: 'POST' | 'GET', url: string, payload?: object) => {
    const res = await t.app.inject({ method, url, headers: bearer(adminToken), payload });
    if (res.statusCode >= 300) throw new Error(`fixture ${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  };
  const departments: string[] = [(await asAdmin('POST', '/api/v1/departments', { name: 'Fuzz A' })).id, (await asAdmin('POST', '/api/v1/departments', { name: 'Fuzz B' })).id];
  const viewer = await createUser(t, { roles: ['viewer'], departmentId: departments[0] });
  const victim = await createUser(t, { roles: ['editor'], departmentId: departments[0] });
  const pending = await createUser(t, { status: 'pending', emailVerified: false });
  await loginTokens(t, victim);
  const documents: string[] = [];
  for (const classification of ['public', 'internal', 'confidential']) {
    documents.push((await asAdmin('POST', '/api/v1/documents', { title: `Fuzz ${classification}`, body: 'b', classification, departmentId: departments[0] })).id);
  }
  await asAdmin('POST', `/api/v1/documents/${documents[0]}/publish`);
  await asAdmin('POST', '/api/v1/roles', { name: 'fuzz-custom', permissions: [{ action: 'read', subject: 'Document', conditions: { status: 'published' } }] });
  const roles = (await asAdmin('GET', '/api/v1/roles')) as { id: string }[];
  const sessions = (await asAdmin('GET', `/api/v1/users/${victim.id}/sessions`)) as { id: string }[];
  return {
    admin,
    viewer,
    victim,
    adminToken,
    ctx: {
      victimEmail: victim.email,
      existingIds: [admin.id, viewer.id, victim.id, pending.id, ...departments, ...documents, ...roles.map((r) => r.id), ...sessions.map((s) => s.id)],
    },
  };
}
