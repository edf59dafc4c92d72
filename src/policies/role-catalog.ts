import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { ChangeEvent } from '../database/change-feed/change-event';
import { ChangeFeed, type ChangeListener } from '../database/change-feed/change-feed.service';
import type { StoredPermission } from './role.entity';

export interface RoleRules {
  permissions: StoredPermission[];
  requireMfa: boolean;
}

/** The rules of every role as one load read them, and the catalog version they belong to. */
export interface RoleSnapshot {
  version: number;
  roles: Map<string, RoleRules>;
}

/**
 * Every role's rules, in memory. Any role change anywhere publishes `policies.changed`; each
 * instance then bumps `version` and reloads on next use. A snapshot carries the version its load
 * started at, so a load overtaken by a change is never taken for the current rules (and abilities
 * built from it are cached under the old version, which no later request asks for).
 */
@Injectable()
export class RoleCatalog implements ChangeListener, OnModuleInit {
  private current?: Promise<RoleSnapshot>;
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
    this.current = undefined;
  }

  async get(): Promise<RoleSnapshot> {
    const loading = (this.current ??= this.load(this.version));
    try {
      return await loading;
    } catch (err) {
      if (this.current === loading) this.current = undefined;
      throw err;
    }
  }

  private async load(version: number): Promise<RoleSnapshot> {
    const rows: { name: string; permissions: StoredPermission[]; require_mfa: boolean }[] = await this.em
      .fork()
      .execute('SELECT name, permissions, require_mfa FROM roles');
    return { version, roles: new Map(rows.map((r) => [r.name, { permissions: r.permissions, requireMfa: r.require_mfa }])) };
  }
}
