import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import type { TokenLike } from 'oidc-provider';
import { PrincipalCache } from '../auth/principal/principal-cache';
import { OidcSessionLinks } from './oidc-session-links';

/** The claims a client may receive, by scope (see OIDC_CLAIMS in provider-configuration). */
export interface AccountClaims {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  roles?: string[];
  department?: { id: string; name: string } | null;
}

export interface OidcAccount {
  accountId: string;
  claims(): Promise<AccountClaims>;
}

interface ProfileRow {
  email: string;
  display_name: string;
  email_verified: boolean;
  department_name: string | null;
}

/**
 * oidc-provider's `findAccount`: a Bastion user who may still sign in. A disabled or deleted user,
 * or a token whose grant was given in a Bastion session that has since ended, finds no account —
 * which makes the provider refuse the refresh token, the userinfo call or the code exchange.
 */
@Injectable()
export class OidcAccounts {
  constructor(
    private readonly em: EntityManager,
    private readonly users: PrincipalCache,
    private readonly links: OidcSessionLinks,
  ) {}

  async find(userId: string, token?: TokenLike): Promise<OidcAccount | undefined> {
    const user = await this.users.get(userId);
    if (!user || user.deleted || user.status !== 'active') return undefined;
    if (token?.grantId && !(await this.links.grantIsLive(token.grantId))) return undefined;
    return { accountId: userId, claims: () => this.claims(userId) };
  }

  private async claims(userId: string): Promise<AccountClaims> {
    const user = await this.users.get(userId);
    const rows: ProfileRow[] = await this.em
      .fork()
      .execute(
        'SELECT u.email, u.display_name, u.email_verified, d.name AS department_name FROM users u LEFT JOIN departments d ON d.id = u.department_id WHERE u.id = ?',
        [userId],
      );
    if (!rows.length || !user) return { sub: userId };
    const row = rows[0];
    return {
      sub: userId,
      email: row.email,
      email_verified: row.email_verified,
      name: row.display_name,
      roles: user.roles,
      department: user.departmentId ? { id: user.departmentId, name: row.department_name ?? '' } : null,
    };
  }
}
