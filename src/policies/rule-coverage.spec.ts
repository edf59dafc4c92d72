import { BUILT_IN_ROLES } from './built-in-roles';
import { isCovered, uninverted } from './rule-coverage';
import type { StoredPermission } from './role.entity';

const X = '5b1f0c8e-2a4d-4e6f-9b1c-3d5e7f9a1b2c';
const DEPT = '${user.departmentId}';
const rule = (action: string, subject: string, extra: Partial<StoredPermission> = {}): StoredPermission => ({ action, subject, ...extra });
const builtIn = (name: string) => BUILT_IN_ROLES.find((r) => r.name === name)!.permissions;

describe('isCovered: a written rule is covered only by a caller rule that allows at least as much', () => {
  it('manage all covers everything, the new actions assign and escalate included', () => {
    const admin = builtIn('admin');
    for (const written of [
      rule('manage', 'all'),
      rule('update', 'Document', { fields: ['title'], conditions: { departmentId: DEPT } }),
      rule('assign', 'Role', { conditions: { name: { $in: ['viewer'] } } }),
      rule('escalate', 'Role'),
    ]) {
      expect(isCovered(written, admin)).toBe(true);
    }
  });

  it('no built-in role but admin holds assign or escalate', () => {
    for (const role of BUILT_IN_ROLES) {
      for (const action of ['assign', 'escalate']) expect([role.name, action, isCovered(rule(action, 'Role'), role.permissions)]).toEqual([role.name, action, role.name === 'admin']);
    }
  });

  it('the same action or manage, on the same subject or all', () => {
    expect(isCovered(rule('update', 'Document'), [rule('manage', 'Document')])).toBe(true);
    expect(isCovered(rule('update', 'Document'), [rule('update', 'all')])).toBe(true);
    expect(isCovered(rule('update', 'Document'), [rule('read', 'Document')])).toBe(false);
    expect(isCovered(rule('update', 'Document'), [rule('update', 'User')])).toBe(false);
    // A wider written rule is never covered by a narrower one.
    expect(isCovered(rule('manage', 'Document'), [rule('update', 'Document')])).toBe(false);
    expect(isCovered(rule('read', 'all'), [rule('read', 'Document')])).toBe(false);
    expect(isCovered(rule('escalate', 'Role'), [rule('update', 'Role'), rule('create', 'Role')])).toBe(false);
  });

  it('narrower conditions on the caller side: not covered; the caller\'s conditions repeated (plus more) in the written rule: covered', () => {
    const held = [rule('read', 'Document', { conditions: { departmentId: X } })];
    expect(isCovered(rule('read', 'Document'), held)).toBe(false);
    expect(isCovered(rule('read', 'Document', { conditions: { departmentId: X } }), held)).toBe(true);
    expect(isCovered(rule('read', 'Document', { conditions: { status: 'draft', departmentId: X } }), held)).toBe(true);
    expect(isCovered(rule('read', 'Document', { conditions: { status: 'draft' } }), held)).toBe(false);
    expect(isCovered(rule('read', 'Document', { conditions: { departmentId: { $in: [X] } } }), held)).toBe(false);
    // An unconditional caller rule covers any conditions.
    expect(isCovered(rule('read', 'Document', { conditions: { status: 'draft' } }), [rule('read', 'Document')])).toBe(true);
  });

  it('conditions compare exactly and with placeholders unresolved: a placeholder covers only itself', () => {
    const relative = [rule('read', 'Document', { conditions: { departmentId: DEPT, classification: { $ne: 'confidential' } } })];
    expect(isCovered(rule('read', 'Document', { conditions: { classification: { $ne: 'confidential' }, departmentId: DEPT } }), relative)).toBe(true);
    // The same department by id, or a different operand: not the same condition.
    expect(isCovered(rule('read', 'Document', { conditions: { departmentId: X, classification: { $ne: 'confidential' } } }), relative)).toBe(false);
    expect(isCovered(rule('read', 'Document', { conditions: { departmentId: DEPT, classification: { $nin: ['confidential'] } } }), relative)).toBe(false);
    expect(isCovered(rule('read', 'Document', { conditions: { departmentId: DEPT } }), [rule('read', 'Document', { conditions: { departmentId: X } })])).toBe(false);
    // An upper-case spelling of the same uuid is conservatively a different condition.
    expect(isCovered(rule('read', 'Document', { conditions: { departmentId: X.toUpperCase() } }), [rule('read', 'Document', { conditions: { departmentId: X } })])).toBe(false);
  });

  it('narrower fields on the caller side: not covered; a subset of the caller\'s fields: covered', () => {
    const held = [rule('update', 'User', { fields: ['displayName', 'departmentId'] })];
    expect(isCovered(rule('update', 'User'), held)).toBe(false);
    expect(isCovered(rule('update', 'User', { fields: ['displayName', 'roles'] }), held)).toBe(false);
    expect(isCovered(rule('update', 'User', { fields: ['departmentId'] }), held)).toBe(true);
    expect(isCovered(rule('update', 'User', { fields: ['roles'] }), [rule('update', 'User')])).toBe(true);
  });

  it('an inverted rule of the caller\'s that touches the written rule leaves it uncovered', () => {
    const held = [rule('manage', 'all'), rule('read', 'Document', { inverted: true, conditions: { classification: 'confidential' } })];
    expect(isCovered(rule('read', 'Document', { conditions: { classification: 'public' } }), held)).toBe(false);
    expect(isCovered(rule('manage', 'Document'), held)).toBe(false);
    expect(isCovered(rule('read', 'all'), held)).toBe(false);
    // Another action or another subject is not touched by it.
    expect(isCovered(rule('update', 'Document'), held)).toBe(true);
    expect(isCovered(rule('read', 'User'), held)).toBe(true);
    expect(isCovered(rule('read', 'Document'), [rule('read', 'Document'), rule('manage', 'all', { inverted: true, conditions: { id: X } })])).toBe(false);
  });

  it('writing an inverted rule needs no coverage (it grants nothing); removing one is checked as the grant it withheld', () => {
    const restriction = rule('read', 'Document', { inverted: true, conditions: { classification: 'confidential' }, reason: 'need to know' });
    expect(isCovered(restriction, [])).toBe(true);
    expect(uninverted(restriction)).toEqual(rule('read', 'Document', { conditions: { classification: 'confidential' } }));
    expect(isCovered(uninverted(restriction), [])).toBe(false);
    expect(isCovered(uninverted(restriction), builtIn('admin'))).toBe(true);
  });

  it('nothing held covers nothing granted', () => {
    expect(isCovered(rule('read', 'Department'), [])).toBe(false);
  });
});

describe('a role steward writing a role', () => {
  it('holds what it holds: the uncovered rules of a mixed list are exactly the ones it lacks', () => {
    const steward = [rule('create', 'Role'), rule('read', 'Role'), ...builtIn('editor')];
    const written = [
      builtIn('editor')[1],
      rule('manage', 'all'),
      rule('read', 'Document', { conditions: { departmentId: DEPT, classification: { $ne: 'confidential' }, status: 'published' } }),
      rule('delete', 'Document', { inverted: true }),
      rule('update', 'Role'),
    ];
    const uncovered = (held: StoredPermission[]) => written.flatMap((r, i) => (isCovered(r, held) ? [] : [i]));
    expect(uncovered(steward)).toEqual([1, 4]);
    expect(uncovered(builtIn('admin'))).toEqual([]);
  });
});
