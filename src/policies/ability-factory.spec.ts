import type { EntityManager } from '@mikro-orm/postgresql';
import type { ChangeFeed, ChangeListener } from '../database/change-feed/change-feed.service';
import { AbilityFactory, type PolicySubject } from './ability-factory';
import { type AppAbility, asSubject } from './app-ability';
import { BUILT_IN_ROLES } from './built-in-roles';
import { RoleCatalog } from './role-catalog';
import type { StoredPermission } from './role.entity';

const DEPT = '5b1f0c8e-2a4d-4e6f-9b1c-3d5e7f9a1b2c';
const OTHER_DEPT = '7c2a1d9f-3b5e-4f70-8c2d-4e6f8a0b2c3d';
const ALICE = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';

interface RoleRow {
  name: string;
  permissions: StoredPermission[];
  require_mfa: boolean;
}

/** The only thing RoleCatalog asks of the EntityManager: one query over `roles` on a fork. */
class RolesTableFake {
  rows: RoleRow[];
  loads = 0;
  /** When set, the next load reads the rows, then waits for this promise before answering. */
  hold?: Promise<void>;
  constructor(rows: RoleRow[]) {
    this.rows = rows;
  }
  fork() {
    return {
      execute: async (sql: string) => {
        if (sql !== 'SELECT name, permissions, require_mfa FROM roles') throw new Error(`unexpected query: ${sql}`);
        this.loads++;
        const read = structuredClone(this.rows);
        const hold = this.hold;
        this.hold = undefined;
        if (hold) await hold;
        return read;
      },
    };
  }
}

/** The change feed as RoleCatalog uses it: it registers itself; `live` says the caches may be trusted. */
class ChangeFeedFake {
  readonly listeners: ChangeListener[] = [];
  live = true;
  register(listener: ChangeListener): void {
    this.listeners.push(listener);
  }
}

const builtIns = (): RoleRow[] => BUILT_IN_ROLES.map((r) => ({ name: r.name, permissions: r.permissions, require_mfa: false }));
const auditor: RoleRow = { name: 'auditor', permissions: [{ action: 'read', subject: 'AuditEvent' }], require_mfa: true };

function setUp(rows: RoleRow[] = [...builtIns(), auditor]) {
  const table = new RolesTableFake(rows);
  const feed = new ChangeFeedFake();
  const catalog = new RoleCatalog(table as unknown as EntityManager, feed as unknown as ChangeFeed);
  catalog.onModuleInit();
  return { table, feed, catalog, factory: new AbilityFactory(catalog) };
}

const principal = (userId: string, roles: string[], extra: Partial<PolicySubject> = {}): PolicySubject => ({
  userId,
  departmentId: DEPT,
  roles,
  amr: ['pwd'],
  ...extra,
});

const draft = (ownerId: string, departmentId = DEPT) =>
  asSubject('Document', { id: `doc-of-${ownerId}`, title: 'Plan', status: 'draft', classification: 'internal', departmentId, ownerId, version: 1 });
const can = (ability: AppAbility, action: string, record: Record<string, unknown>, field?: string) => ability.can(action as never, record as never, field);

describe('AbilityFactory', () => {
  it('registers the catalog on the change feed', () => {
    const { feed, catalog } = setUp();
    expect(feed.listeners).toEqual([catalog]);
  });

  it('gives two editors of one department different abilities: each updates and deletes only their own draft', async () => {
    const { factory } = setUp();
    const alice = (await factory.forSubject(principal(ALICE, ['editor']))).ability;
    const bob = (await factory.forSubject(principal(BOB, ['editor']))).ability;
    expect(alice).not.toBe(bob);

    expect(can(alice, 'update', draft(ALICE))).toBe(true);
    expect(can(alice, 'update', draft(BOB))).toBe(false);
    expect(can(alice, 'delete', draft(BOB))).toBe(false);
    expect(can(bob, 'update', draft(BOB))).toBe(true);
    expect(can(bob, 'update', draft(ALICE))).toBe(false);
    // Both read the department's non-confidential documents, whoever owns them.
    expect(can(alice, 'read', draft(BOB))).toBe(true);
    expect(can(bob, 'read', draft(ALICE))).toBe(true);
    // Field level: an editor may change the title of their draft, never its status.
    expect(can(alice, 'update', draft(ALICE), 'title')).toBe(true);
    expect(can(alice, 'update', draft(ALICE), 'status')).toBe(false);
    // Other departments stay out of reach.
    expect(can(alice, 'read', draft(ALICE, OTHER_DEPT))).toBe(false);
  });

  it('returns the cached ability to the same principal (whatever the order of roles) and loads the roles once', async () => {
    const { factory, table } = setUp();
    const first = await factory.forSubject(principal(ALICE, ['viewer', 'editor']));
    const second = await factory.forSubject(principal(ALICE, ['editor', 'viewer']));
    expect(second).toBe(first);
    expect(second.ability).toBe(first.ability);
    expect(table.loads).toBe(1);
  });

  it('keys the cache by department too: a user who moves gets an ability for the new department', async () => {
    const { factory } = setUp();
    const before = (await factory.forSubject(principal(ALICE, ['editor']))).ability;
    const after = (await factory.forSubject(principal(ALICE, ['editor'], { departmentId: OTHER_DEPT }))).ability;
    expect(after).not.toBe(before);
    expect(can(after, 'read', draft(BOB, OTHER_DEPT))).toBe(true);
    expect(can(after, 'read', draft(BOB, DEPT))).toBe(false);
  });

  it('builds a new ability after `policies.changed` (catalog version bump) and applies the changed rules', async () => {
    const { factory, catalog, table } = setUp();
    const before = await factory.forSubject(principal(ALICE, ['editor']));
    expect(can(before.ability, 'delete', draft(ALICE))).toBe(true);

    // Another instance removes `delete` from the editor role and publishes the change.
    table.rows = table.rows.map((r) => (r.name === 'editor' ? { ...r, permissions: r.permissions.filter((p) => p.action !== 'delete') } : r));
    const version = catalog.version;
    catalog.apply({ type: 'policies.changed' });
    expect(catalog.version).toBe(version + 1);

    const after = await factory.forSubject(principal(ALICE, ['editor']));
    expect(after).not.toBe(before);
    expect(can(after.ability, 'delete', draft(ALICE))).toBe(false);
    expect(can(after.ability, 'update', draft(ALICE))).toBe(true);
    expect(table.loads).toBe(2);
    expect(await factory.forSubject(principal(ALICE, ['editor']))).toBe(after);
  });

  it('never serves rules from a load that two changes overtook: the revoked permission is refused afterwards', async () => {
    const { factory, catalog, table } = setUp();
    let release!: () => void;
    table.hold = new Promise((resolve) => (release = resolve));
    // The first load reads the rules while editors may still delete, and is held open.
    const inFlight = factory.forSubject(principal(ALICE, ['editor']));
    expect(table.loads).toBe(1);

    // Two changes land while it is held: `delete` is taken from editors, then something else changes.
    table.rows = table.rows.map((r) => (r.name === 'editor' ? { ...r, permissions: r.permissions.filter((p) => p.action !== 'delete') } : r));
    catalog.apply({ type: 'policies.changed' });
    table.rows = table.rows.map((r) => (r.name === 'viewer' ? { ...r, permissions: [] } : r));
    catalog.apply({ type: 'policies.changed' });

    release();
    await inFlight;
    const after = await factory.forSubject(principal(ALICE, ['editor']));
    expect(table.loads).toBe(2);
    expect(can(after.ability, 'delete', draft(ALICE))).toBe(false);
    expect(can(after.ability, 'update', draft(ALICE))).toBe(true);
  });

  it('ignores events that are not about policies, and rebuilds after a feed resync', async () => {
    const { factory, catalog } = setUp();
    const first = await factory.forSubject(principal(ALICE, ['viewer']));
    catalog.apply({ type: 'user.changed', userId: ALICE });
    catalog.apply({ type: 'sessions.revoked', sessionIds: ['s1'] });
    expect(await factory.forSubject(principal(ALICE, ['viewer']))).toBe(first);
    await catalog.resync();
    expect(await factory.forSubject(principal(ALICE, ['viewer']))).not.toBe(first);
  });

  it('withholds a requireMfa role without `otp` in amr, offers it as `withMfa`, and grants it with otp', async () => {
    const { factory } = setUp();
    const password = await factory.forSubject(principal(ALICE, ['viewer', 'auditor'], { amr: ['pwd'] }));
    expect(password.ability.can('read', 'AuditEvent')).toBe(false);
    expect(password.withMfa?.can('read', 'AuditEvent')).toBe(true);
    // The withheld role does not take the others away.
    expect(password.ability.can('read', 'Department')).toBe(true);

    const otp = await factory.forSubject(principal(ALICE, ['viewer', 'auditor'], { amr: ['pwd', 'otp'] }));
    expect(otp).not.toBe(password);
    expect(otp.ability.can('read', 'AuditEvent')).toBe(true);
    expect(otp.withMfa).toBeUndefined();

    const noMfaRole = await factory.forSubject(principal(ALICE, ['viewer'], { amr: ['pwd'] }));
    expect(noMfaRole.withMfa).toBeUndefined();
  });

  it('counts a passkey with user verification (hwk + user) as MFA, and a key without it as one factor', async () => {
    const { factory } = setUp();
    const passkey = await factory.forSubject(principal(ALICE, ['viewer', 'auditor'], { amr: ['hwk', 'user'] }));
    expect(passkey.ability.can('read', 'AuditEvent')).toBe(true);
    expect(passkey.withMfa).toBeUndefined();
    const keyOnly = await factory.forSubject(principal(ALICE, ['viewer', 'auditor'], { amr: ['hwk'] }));
    expect(keyOnly.ability.can('read', 'AuditEvent')).toBe(false);
    expect(keyOnly.withMfa?.can('read', 'AuditEvent')).toBe(true);
  });

  it('gives a user without a department nothing from "their department" rules, but keeps their own', async () => {
    const { factory } = setUp([
      ...builtIns(),
      { name: 'author', permissions: [{ action: 'read', subject: 'Document', conditions: { ownerId: '${user.id}' } }], require_mfa: false },
    ]);
    const { ability } = await factory.forSubject(principal(ALICE, ['editor', 'author'], { departmentId: null }));
    expect(can(ability, 'read', draft(ALICE))).toBe(true);
    expect(can(ability, 'read', draft(BOB))).toBe(false);
    expect(can(ability, 'update', draft(ALICE))).toBe(false);
    expect(can(ability, 'read', asSubject('Document', { ...draft(BOB), departmentId: null }))).toBe(false);
  });

  it('exposes the rules held as stored (placeholders unresolved): without a department its rules are not held, a withheld MFA role is not held', async () => {
    const { factory } = setUp();
    const editor = BUILT_IN_ROLES.find((r) => r.name === 'editor')!.permissions;
    expect((await factory.forSubject(principal(ALICE, ['editor']))).held).toEqual(editor);
    expect((await factory.forSubject(principal(ALICE, ['editor'], { departmentId: null }))).held).toEqual([]);
    expect((await factory.forSubject(principal(ALICE, ['auditor']))).held).toEqual([]);
    expect((await factory.forSubject(principal(ALICE, ['auditor'], { amr: ['pwd', 'otp'] }))).held).toEqual(auditor.permissions);
  });

  it("lets no role's grant undo another role's restriction, and skips unknown roles", async () => {
    const { factory } = setUp([
      ...builtIns(),
      { name: 'no-drafts', permissions: [{ action: 'read', subject: 'Document', inverted: true, conditions: { status: 'draft' } }], require_mfa: false },
    ]);
    const { ability } = await factory.forSubject(principal(ALICE, ['no-drafts', 'manager', 'ghost']));
    expect(can(ability, 'read', draft(BOB))).toBe(false);
    expect(can(ability, 'read', asSubject('Document', { ...draft(BOB), status: 'published' }))).toBe(true);
  });
});
