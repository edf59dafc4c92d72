import { Injectable } from '@nestjs/common';
import { RevocationSet } from '../sessions/revocation-set';
import type { Principal } from './principal';
import { PrincipalCache } from './principal-cache';

export type Credential = Omit<Principal, 'roles' | 'departmentId'>;

/**
 * Turns a verified credential into the request's principal: refuses revoked sessions and users
 * who are disabled or deleted, and adds current roles and department. In steady state this is
 * two in-memory lookups; the database is read only on a cache miss or while the feed is down.
 */
@Injectable()
export class PrincipalResolver {
  constructor(
    private readonly revocations: RevocationSet,
    private readonly users: PrincipalCache,
  ) {}

  async resolve(credential: Credential): Promise<Principal | null> {
    if (await this.revocations.isRevoked(credential.sessionId)) return null;
    const user = await this.users.get(credential.userId);
    if (!user || user.deleted || user.status === 'disabled') return null;
    return { ...credential, roles: user.roles, departmentId: user.departmentId };
  }
}
