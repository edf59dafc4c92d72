import { resolvePlaceholders } from './placeholders';
import type { StoredPermission } from './role.entity';

const ME = '0b6d1c1e-54a3-4f0e-8d4b-6b8a2f9d7e01';
const DEPT = 'a1f3c9d2-7b4e-4c1a-9e2f-3d5b6a7c8e90';
const OTHER = 'c2e4f6a8-1b3d-4e5f-8a7b-9c0d1e2f3a4b';

describe('resolvePlaceholders', () => {
  it('replaces ${user.id} and ${user.departmentId} by value everywhere: bare, operators, lists, $and/$or', () => {
    const rules: StoredPermission[] = [
      {
        action: 'update',
        subject: 'Document',
        conditions: {
          ownerId: '${user.id}',
          departmentId: { $in: ['${user.departmentId}', OTHER], $ne: '${user.id}' },
          $or: [{ ownerId: { $eq: '${user.id}' } }, { $and: [{ departmentId: '${user.departmentId}' }] }],
        },
      },
    ];
    expect(resolvePlaceholders(rules, { id: ME, departmentId: DEPT })).toEqual([
      {
        action: 'update',
        subject: 'Document',
        conditions: {
          ownerId: ME,
          departmentId: { $in: [DEPT, OTHER], $ne: ME },
          $or: [{ ownerId: { $eq: ME } }, { $and: [{ departmentId: DEPT }] }],
        },
      },
    ]);
  });

  it('substitutes values, never text: a value that looks like SQL or like another placeholder stays one literal value', () => {
    const injection = "x' OR '1'='1";
    const rules: StoredPermission[] = [
      { action: 'read', subject: 'Document', conditions: { ownerId: '${user.id}', title: "'; DROP TABLE documents; --" } },
      { action: 'read', subject: 'Department', conditions: { id: '${user.departmentId}' } },
    ];
    const [first, second] = resolvePlaceholders(rules, { id: injection, departmentId: '${user.id}' });
    expect(first.conditions).toEqual({ ownerId: injection, title: "'; DROP TABLE documents; --" });
    // Substitution happens once: the department's value is not itself resolved again.
    expect(second.conditions).toEqual({ id: '${user.id}' });
  });

  it('leaves strings that merely contain a placeholder, and other values, alone', () => {
    const conditions = { title: 'my ${user.id}', version: { $gte: 2 }, status: null, 'details.reason': '${user.ID}' };
    const [rule] = resolvePlaceholders([{ action: 'read', subject: 'Document', conditions }], { id: ME, departmentId: DEPT });
    expect(rule.conditions).toEqual(conditions);
  });

  it('without a department: drops granting rules that need it, keeps inverted ones with NULL, keeps the rest', () => {
    const rules: StoredPermission[] = [
      { action: 'read', subject: 'Document', conditions: { departmentId: '${user.departmentId}', status: 'published' } },
      { action: 'read', subject: 'Department', conditions: { $or: [{ id: '${user.departmentId}' }] } },
      { action: 'update', subject: 'Document', conditions: { ownerId: '${user.id}' } },
      { action: 'read', subject: 'Document', inverted: true, conditions: { departmentId: { $ne: '${user.departmentId}' } } },
      { action: 'read', subject: 'User' },
      { action: 'read', subject: 'Document', conditions: { departmentId: null } },
    ];
    expect(resolvePlaceholders(rules, { id: ME, departmentId: null })).toEqual([
      { action: 'update', subject: 'Document', conditions: { ownerId: ME } },
      { action: 'read', subject: 'Document', inverted: true, conditions: { departmentId: { $ne: null } } },
      { action: 'read', subject: 'User' },
      { action: 'read', subject: 'Document', conditions: { departmentId: null } },
    ]);
  });

  it('never changes the templates it is given (they are cached and shared between principals)', () => {
    const rules: StoredPermission[] = [{ action: 'read', subject: 'Document', conditions: { ownerId: { $in: ['${user.id}'] } } }];
    const before = JSON.stringify(rules);
    const first = resolvePlaceholders(rules, { id: ME, departmentId: DEPT });
    const second = resolvePlaceholders(rules, { id: OTHER, departmentId: DEPT });
    expect(JSON.stringify(rules)).toBe(before);
    expect(first[0].conditions).toEqual({ ownerId: { $in: [ME] } });
    expect(second[0].conditions).toEqual({ ownerId: { $in: [OTHER] } });
  });
});
