import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { ChangeEvent } from '../../database/change-feed/change-event';
import { ChangeFeed, type ChangeListener } from '../../database/change-feed/change-feed.service';
import type { UserSnapshot } from './principal';

/**
 * Each user's current status, roles and department, so that the authenticated hot path never
 * reads the database. Invalidated through the change feed when a user, a role or a policy
 * changes; cleared on resync. The TTL only bounds staleness should a notification ever be lost.
 */
@Injectable()
export class PrincipalCache implements ChangeListener, OnModuleInit {
  private readonly users = new LRUCache<string, UserSnapshot>({ max: 50_000, ttl: 10 * 60_000 });
  private readonly loading = new Map<string, Promise<UserSnapshot | undefined>>();
  private generation = 0;

  constructor(
    private readonly em: EntityManager,
    private readonly feed: ChangeFeed,
  ) {}

  onModuleInit(): void {
    this.feed.register(this);
  }

  apply(event: ChangeEvent): void {
    if (event.type === 'user.changed') this.invalidate(event.userId);
    if (event.type === 'policies.changed') this.clear();
  }

  async resync(): Promise<void> {
    this.clear();
  }

  invalidate(userId: string): void {
    this.generation++;
    this.users.delete(userId);
    this.loading.delete(userId);
  }

  private clear(): void {
    this.generation++;
    this.users.clear();
    this.loading.clear();
  }

  getCached(userId: string): UserSnapshot | undefined {
    return this.feed.live ? this.users.get(userId) : undefined;
  }

  async get(userId: string): Promise<UserSnapshot | undefined> {
    const cached = this.getCached(userId);
    if (cached) return cached;
    let pending = this.loading.get(userId);
    if (!pending) {
      const generation = this.generation;
      pending = this.load(userId).then((snapshot) => {
        // Only cache what was read after the last invalidation, and only while the feed is live.
        if (snapshot && generation === this.generation && this.feed.live) this.users.set(userId, snapshot);
        if (this.loading.get(userId) === pending) this.loading.delete(userId);
        return snapshot;
      });
      this.loading.set(userId, pending);
      pending.catch(() => this.loading.delete(userId));
    }
    return pending;
  }

  /**
   * The user's snapshot, having checked that `sessionId` is one of the user's sessions. A session
   * the snapshot has already seen costs nothing; a new one (a sign-in since it was cached) one
   * primary-key read per instance; a session id that is not the user's (a token signed with a
   * leaked key) is never added, so it is refused.
   */
  async getWithSession(userId: string, sessionId: string): Promise<UserSnapshot | undefined> {
    const user = await this.get(userId);
    if (!user || user.sessionIds.has(sessionId)) return user;
    const rows: unknown[] = await this.em
      .fork()
      .execute('SELECT 1 FROM sessions WHERE id = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > now()', [sessionId, userId]);
    if (rows.length) user.sessionIds.add(sessionId);
    return user;
  }

  private async load(userId: string): Promise<UserSnapshot | undefined> {
    const rows: { status: UserSnapshot['status']; deleted: boolean; department_id: string | null; roles: string[] | null }[] = await this.em
      .fork()
      .execute(
        `SELECT u.status, u.deleted_at IS NOT NULL AS deleted, u.department_id,
                array_remove(array_agg(r.name ORDER BY r.name), NULL) AS roles
           FROM users u LEFT JOIN user_roles ur ON ur.user_id = u.id LEFT JOIN roles r ON r.id = ur.role_id
          WHERE u.id = ? GROUP BY u.id`,
        [userId],
      );
    if (!rows.length) return undefined;
    const row = rows[0];
    return { userId, status: row.status, deleted: row.deleted, roles: row.roles ?? [], departmentId: row.department_id, sessionIds: new Set() };
  }
}
