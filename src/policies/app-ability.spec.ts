import type { RawRuleOf } from '@casl/ability';
import { type AppAbility, asSubject, buildAbility, sqlCompare } from './app-ability';
import type { SubjectType } from './policy-schema';

const UUID = '6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d';
const ability = (...rules: Record<string, unknown>[]) => buildAbility(rules as unknown as RawRuleOf<AppAbility>[]);
const grants = (conditions: Record<string, unknown>, record: Record<string, unknown>, type: SubjectType = 'Document') =>
  ability({ action: 'read', subject: type, conditions }).can('read', asSubject(type, record) as never);

describe('sqlCompare: the order of a COLLATE "C" column, NULL incomparable', () => {
  it('orders strings by code point, not by UTF-16 unit or locale', () => {
    expect('😀' < 'ｚ').toBe(true); // JavaScript compares UTF-16 units: 0xD83D < 0xFF5A
    expect(sqlCompare('😀', 'ｚ')).toBe(1); // U+1F600 > U+FF5A
    expect(sqlCompare('B', 'a')).toBe(-1);
    expect(sqlCompare('é', 'z')).toBe(1);
    expect(sqlCompare('', 'a')).toBe(-1);
    expect(sqlCompare('ab', 'ab')).toBe(0);
  });

  it('makes NULL equal only to NULL and neither less nor greater than anything; mixed types never compare', () => {
    expect(sqlCompare(null, null)).toBe(0);
    expect(sqlCompare(undefined, null)).toBe(0);
    for (const result of [sqlCompare(null, 'a'), sqlCompare(0, null), sqlCompare(1, '1')]) expect([0, 1, -1]).not.toContain(result);
  });
});

describe('buildAbility: conditions decide in memory as their SQL translation does', () => {
  const doc = { title: 'Plan', status: 'draft', ownerId: UUID, version: 2, departmentId: null };

  it('honours $or and $and (CASL’s default matcher would read them as fields and never match)', () => {
    expect(grants({ $or: [{ status: 'published' }, { version: 2 }] }, doc)).toBe(true);
    expect(grants({ $or: [{ status: 'published' }, { version: 3 }] }, doc)).toBe(false);
    expect(grants({ $and: [{ status: 'draft' }, { $or: [{ title: 'x' }, { ownerId: UUID }] }] }, doc)).toBe(true);
    const restricted = ability({ action: 'read', subject: 'Document' }, { action: 'read', subject: 'Document', inverted: true, conditions: { $or: [{ status: 'draft' }] } });
    expect(restricted.can('read', asSubject('Document', doc) as never)).toBe(false);
  });

  it('treats empty conditions, also nested, as TRUE', () => {
    expect(grants({}, doc)).toBe(true);
    expect(grants({ $and: [{}] }, doc)).toBe(true);
    expect(grants({ $or: [{}, { title: 'x' }] }, doc)).toBe(true);
    expect(grants({ status: { $nin: [] } }, doc)).toBe(true);
    expect(grants({ status: { $in: [] } }, doc)).toBe(false);
  });

  it.each<[string, Record<string, unknown>, boolean]>([
    ['{f: null} matches NULL', { departmentId: null }, true],
    ['{f: null} matches a missing field', { body: null }, true],
    ['$eq value never matches NULL', { departmentId: UUID }, false],
    ['$ne value matches NULL (IS DISTINCT FROM)', { departmentId: { $ne: UUID } }, true],
    ['$ne null means NOT NULL', { departmentId: { $ne: null } }, false],
    ['$in [value] never matches NULL', { departmentId: { $in: [UUID] } }, false],
    ['$in [null] matches NULL', { departmentId: { $in: [UUID, null] } }, true],
    ['$nin [value] matches NULL', { departmentId: { $nin: [UUID] } }, true],
    ['$nin [null] means NOT NULL', { departmentId: { $nin: [null] } }, false],
    ['$exists: true means NOT NULL', { departmentId: { $exists: true } }, false],
    ['$exists: false means IS NULL', { departmentId: { $exists: false } }, true],
    ['$lt never matches NULL', { body: { $lt: 'zzz' } }, false],
    ['$gte never matches NULL', { body: { $gte: '' } }, false],
  ])('%s', (_what, conditions, expected) => {
    expect(grants(conditions, doc)).toBe(expected);
  });

  it('counts a field that holds undefined as NULL', () => {
    expect(grants({ departmentId: null }, { ...doc, departmentId: undefined })).toBe(true);
    expect(grants({ departmentId: { $exists: true } }, { ...doc, departmentId: undefined })).toBe(false);
  });

  it('compares uuids case-insensitively, as a uuid column does, and shows the rules in that form', () => {
    const upper = ability({ action: 'read', subject: 'Document', conditions: { ownerId: { $in: [UUID.toUpperCase()] }, departmentId: { $ne: UUID.toUpperCase() } } });
    expect(upper.can('read', asSubject('Document', doc) as never)).toBe(true);
    expect(upper.rules[0].conditions).toEqual({ ownerId: { $in: [UUID] }, departmentId: { $ne: UUID } });
    // Only uuid fields: a title keeps its case; an unresolved placeholder stays as it is.
    expect(grants({ title: 'PLAN' }, doc)).toBe(false);
    expect(ability({ action: 'read', subject: 'Document', conditions: { departmentId: '${user.departmentId}' } }).rules[0].conditions).toEqual({ departmentId: '${user.departmentId}' });
  });

  it('compares timestamps as instants at millisecond precision, whatever ISO form the rule uses', () => {
    const created = { ...doc, createdAt: new Date('2024-01-01T10:00:00.000Z') };
    expect(grants({ createdAt: '2024-01-01T10:00:00Z' }, created)).toBe(true);
    expect(grants({ createdAt: { $lt: '2024-01-01T10:00:00Z' } }, created)).toBe(false);
    expect(grants({ createdAt: { $lte: '2024-01-01T10:00:00Z' } }, created)).toBe(true);
    expect(grants({ createdAt: { $gt: '2024-01-01T09:59:59.999Z' } }, created)).toBe(true);
    // A date that PostgreSQL would refuse (Feb 30) reaches SQL as the instant JavaScript read (Mar 1).
    expect(ability({ action: 'read', subject: 'Document', conditions: { createdAt: { $lt: '2024-02-30T00:00:00Z' } } }).rules[0].conditions).toEqual({
      createdAt: { $lt: '2024-03-01T00:00:00.000Z' },
    });
  });

  describe('JSON paths read like PostgreSQL `->>`', () => {
    const event = (details: unknown) => ({ id: UUID, type: 'x', details });
    const audit = (conditions: Record<string, unknown>, details: unknown) => grants(conditions, event(details), 'AuditEvent');

    it('a string leaf as it is, any other leaf as its jsonb text', () => {
      expect(audit({ 'details.reason': 'locked' }, { reason: 'locked' })).toBe(true);
      expect(audit({ 'details.count': '25' }, { count: 25 })).toBe(true);
      expect(audit({ 'details.ok': 'true' }, { ok: true })).toBe(true);
      expect(audit({ 'details.meta': '{"a": 1, "bb": ["x", 2]}' }, { meta: { bb: ['x', 2], a: 1 } })).toBe(true);
      expect(audit({ 'details.count': { $lt: '3' } }, { count: 25 })).toBe(true); // text order: '25' < '3'
    });

    it('JSON null, a missing key and a missing parent are NULL', () => {
      expect(audit({ 'details.reason': null }, { reason: null })).toBe(true);
      expect(audit({ 'details.reason': null }, {})).toBe(true);
      expect(audit({ 'details.meta.by': null }, { meta: 'flat' })).toBe(true);
      expect(audit({ 'details.meta.by': { $exists: false } }, null)).toBe(true);
    });

    it('never walks into arrays or the prototype', () => {
      expect(audit({ 'details.items.name': { $exists: true } }, { items: [{ name: 'a' }] })).toBe(false);
      expect(audit({ 'details.reason.length': { $exists: true } }, { reason: 'abc' })).toBe(false);
      expect(audit({ 'details.constructor': { $exists: true } }, {})).toBe(false);
      expect(audit({ 'details.toString': null }, {})).toBe(true);
    });
  });
});

describe('asSubject', () => {
  it('gives plain fields with dates as ISO strings and NULLs kept, tagged with the subject type', () => {
    const subject = asSubject('Document', { id: UUID, createdAt: new Date(Date.UTC(2024, 0, 2)), departmentId: null });
    expect(subject).toEqual({ id: UUID, createdAt: '2024-01-02T00:00:00.000Z', departmentId: null });
    expect(ability({ action: 'read', subject: 'Document' }).can('read', subject as never)).toBe(true);
    expect(ability({ action: 'read', subject: 'User' }).can('read', subject as never)).toBe(false);
  });
});
