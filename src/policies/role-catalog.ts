import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { ChangeEvent } from '../database/change-feed/change-event';
import { ChangeFeed, type ChangeListener } from '../database/change-feed/change-feed.service';
import type { StoredPermission } from './role.entity';

export interface RoleRules {
  permissions: StoredPermission[];
  requireMfa: boolean;
}

/**
 * Every role's rules, in memory. Any role change anywhere publishes `policies.changed`; each
 * instance then bumps `version` (which keys every compiled ability) and reloads on next use.
 */
@Injectable()
export class RoleCatalog implements ChangeListener, OnModuleInit {
  private roles?: Promise<Map<string, RoleRules>>;
  version = 0;

  constructor(
    private readonly em: EntityManager,
    private readonly feed: ChangeFeed,
  ) {}

  onModuleInit(): void {
    this.feed.register(this);
  }

  apply(event: ChangeEvent): void {
    if (event.type === 'policies.changed') this.invalidate();
  }

  async resync(): Promise<void> {
    this.invalidate();
  }

  private invalidate(): void {
    this.version++;
    this.roles = undefined;
  }

  async get(): Promise<Map<string, RoleRules>> {
    const version = this.version;
    const loading = (this.roles ??= this.load());
    try {
      return await loading;
    } catch (err) {
      if (this.roles === loading && version === this.version) this.roles = undefined;
      throw err;
    }
  }

  private async load(): Promise<Map<string, RoleRules>> {
    const rows: { name: string; permissions: StoredPermission[]; require_mfa: boolean }[] = await this.em
      .fork()
      .execute('SELECT name, permissions, require_mfa FROM roles');
    return new Map(rows.map((r) => [r.name, { permissions: r.permissions, requireMfa: r.require_mfa }]));
  }
}
