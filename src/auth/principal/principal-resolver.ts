import { Injectable } from '@nestjs/common';
import { RevocationSet } from '../sessions/revocation-set';
import type { Principal } from './principal';
import { PrincipalCache } from './principal-cache';

export type Credential = Omit<Principal, 'roles' | 'departmentId'>;

/**
 * Turns a verified credential into the request's principal: refuses revoked sessions, session
 * ids that name no live session of the user (the second layer should a signing key leak: a
 * forged token must also guess a session id of its subject), and users who are disabled or
 * deleted, and adds current roles and department. In steady state this is two in-memory lookups;
 * the database is read only on a cache miss, for a session this instance has not seen yet, or
 * while the feed is down.
 */
@Injectable()
export class PrincipalResolver {
  constructor(
    private readonly revocations: RevocationSet,
    private readonly users: PrincipalCache,
  ) {}

  async resolve(credential: Credential): Promise<Principal | null> {
    if (await this.revocations.isRevoked(credential.sessionId)) return null;
    const user = await this.users.getWithSession(credential.userId, credential.sessionId);
    if (!user || user.deleted || user.status === 'disabled' || !user.sessionIds.has(credential.sessionId)) return null;
    return { ...credential, roles: user.roles, departmentId: user.departmentId };
  }
}
