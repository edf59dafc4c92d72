import type { RawRuleOf } from '@casl/ability';
import { type AppAbility, buildAbility } from './app-ability';
import { accessibleFilter, conditionsToFilter } from './rules-to-filter';

const ALL = { id: { $nin: [] } };
const NOTHING = { id: { $in: [] } };
const notNull = (f: string) => ({ [f]: { $ne: null } });
const isNull = (f: string) => ({ [f]: null });
const UUID = '9d3c2b1a-0f4e-4d5c-8b6a-7e9f0a1b2c3d';

describe('conditionsToFilter: each condition is a two-valued SQL predicate', () => {
  it.each<[string, Record<string, unknown>, unknown]>([
    ['a bare value: equal and not NULL', { title: 'a' }, { $and: [notNull('title'), { title: 'a' }] }],
    ['$eq', { version: { $eq: 2 } }, { $and: [notNull('version'), { version: 2 }] }],
    ['a bare null: IS NULL', { title: null }, isNull('title')],
    ['$eq null: IS NULL', { title: { $eq: null } }, isNull('title')],
    ['$ne: different or NULL', { title: { $ne: 'a' } }, { $or: [isNull('title'), { title: { $ne: 'a' } }] }],
    ['$ne null: IS NOT NULL', { title: { $ne: null } }, notNull('title')],
    ['$in without null', { status: { $in: ['draft', 'archived'] } }, { $or: [{ $and: [notNull('status'), { status: { $in: ['draft', 'archived'] } }] }] }],
    ['$in with null: or IS NULL', { status: { $in: ['draft', null] } }, { $or: [{ $and: [notNull('status'), { status: { $in: ['draft'] } }] }, isNull('status')] }],
    ['$in [null] alone', { status: { $in: [null] } }, { $or: [isNull('status')] }],
    ['an empty $in: nothing', { status: { $in: [] } }, NOTHING],
    ['$nin without null: or IS NULL', { status: { $nin: ['draft'] } }, { $or: [isNull('status'), { status: { $nin: ['draft'] } }] }],
    ['$nin with null: and IS NOT NULL', { status: { $nin: ['draft', null] } }, { $and: [notNull('status'), { status: { $nin: ['draft'] } }] }],
    ['$nin [null] alone', { status: { $nin: [null] } }, notNull('status')],
    ['an empty $nin: everything, as an explicit TRUE', { status: { $nin: [] } }, ALL],
    ['$exists: true', { title: { $exists: true } }, notNull('title')],
    ['$exists: false', { title: { $exists: false } }, isNull('title')],
    ['$lt', { title: { $lt: 'm' } }, { $and: [notNull('title'), { title: { $lt: 'm' } }] }],
    ['$lte', { version: { $lte: 3 } }, { $and: [notNull('version'), { version: { $lte: 3 } }] }],
    ['$gt', { createdAt: { $gt: '2024-01-01T00:00:00.000Z' } }, { $and: [notNull('createdAt'), { createdAt: { $gt: '2024-01-01T00:00:00.000Z' } }] }],
    ['$gte', { version: { $gte: 1 } }, { $and: [notNull('version'), { version: { $gte: 1 } }] }],
    [
      'several operators on one field: AND',
      { version: { $gte: 1, $lt: 3 } },
      { $and: [{ $and: [notNull('version'), { version: { $gte: 1 } }] }, { $and: [notNull('version'), { version: { $lt: 3 } }] }] },
    ],
    ['several fields: AND', { status: null, ownerId: UUID }, { $and: [isNull('status'), { $and: [notNull('ownerId'), { ownerId: UUID }] }] }],
    [
      '$and and $or keep their shape',
      { $or: [{ status: 'draft' }, { $and: [{ version: { $gt: 1 } }, { title: null }] }] },
      { $or: [{ $and: [notNull('status'), { status: 'draft' }] }, { $and: [{ $and: [notNull('version'), { version: { $gt: 1 } }] }, isNull('title')] }] },
    ],
    ['empty conditions: an explicit TRUE (MikroORM drops `{}` under $or/$not)', {}, ALL],
    ['an empty object inside $or: TRUE, not dropped', { $or: [{}, { title: 'a' }] }, { $or: [ALL, { $and: [notNull('title'), { title: 'a' }] }] }],
    ['a dotted JSON path: nested objects', { 'details.reason': 'locked' }, { $and: [{ details: { reason: { $ne: null } } }, { details: { reason: 'locked' } }] }],
    ['a dotted JSON path with null', { 'details.meta.by': null }, { details: { meta: { by: null } } }],
    ['a dotted JSON path with $ne', { 'details.reason': { $ne: 'x' } }, { $or: [{ details: { reason: null } }, { details: { reason: { $ne: 'x' } } }] }],
  ])('%s', (_what, conditions, filter) => {
    expect(conditionsToFilter(conditions)).toEqual(filter);
  });

  it.each(['details.__proto__', 'details.constructor', 'details.meta.toString', 'details.hasOwnProperty'])(
    'fails closed on the JSON path %s, which MikroORM would drop or mistranslate',
    (path) => {
      expect(() => conditionsToFilter({ [path]: 'x' })).toThrow(`field ${path} has no SQL translation`);
    },
  );

  it('refuses an operator it cannot translate instead of dropping it', () => {
    expect(() => conditionsToFilter({ title: { $regex: 'a' } })).toThrow('operator $regex has no SQL translation');
    expect(() => conditionsToFilter({ title: { $where: 'x' } })).toThrow('operator $where has no SQL translation');
  });
});

describe('accessibleFilter: CASL rule priority as OR-ed grants bounded by the restrictions above them', () => {
  const ability = (...rules: Record<string, unknown>[]) => buildAbility(rules as unknown as RawRuleOf<AppAbility>[]);
  const draft = { $and: [notNull('status'), { status: 'draft' }] };
  const mine = { $and: [notNull('ownerId'), { ownerId: UUID }] };

  it('nothing allowed: null (do not query)', () => {
    expect(accessibleFilter(ability(), 'read', 'Document')).toBeNull();
    expect(accessibleFilter(ability({ action: 'read', subject: 'User' }, { action: 'update', subject: 'Document' }), 'read', 'Document')).toBeNull();
  });

  it('an unconditional grant: no filter; `manage` and `all` count for read', () => {
    expect(accessibleFilter(ability({ action: 'read', subject: 'Document' }), 'read', 'Document')).toEqual({});
    expect(accessibleFilter(ability({ action: 'manage', subject: 'all' }), 'read', 'Document')).toEqual({});
  });

  it('conditional grants: OR', () => {
    expect(accessibleFilter(ability({ action: 'read', subject: 'Document', conditions: { status: 'draft' } }, { action: 'manage', subject: 'Document', conditions: { ownerId: UUID } }), 'read', 'Document')).toEqual({
      $or: [mine, draft],
    });
  });

  it('an inverted rule bounds the grants defined before it (lower priority) as AND NOT', () => {
    const filter = accessibleFilter(
      ability({ action: 'read', subject: 'Document', conditions: { ownerId: UUID } }, { action: 'read', subject: 'Document', inverted: true, conditions: { status: 'draft' } }),
      'read',
      'Document',
    );
    expect(filter).toEqual({ $or: [{ $and: [mine, { $not: draft }] }] });
  });

  it('an inverted rule does not bound a grant defined after it (higher priority)', () => {
    const filter = accessibleFilter(
      ability({ action: 'read', subject: 'Document', inverted: true, conditions: { status: 'draft' } }, { action: 'read', subject: 'Document', conditions: { ownerId: UUID } }),
      'read',
      'Document',
    );
    expect(filter).toEqual({ $or: [mine] });
  });

  it('an unconditional grant under a restriction: everything but the restriction', () => {
    const filter = accessibleFilter(ability({ action: 'read', subject: 'Document' }, { action: 'read', subject: 'Document', inverted: true, conditions: { status: 'draft' } }), 'read', 'Document');
    expect(filter).toEqual({ $and: [{ $not: draft }] });
  });

  it('an unconditional restriction on top: nothing; an empty-conditions restriction: NOT TRUE (never a bare `{}`)', () => {
    expect(accessibleFilter(ability({ action: 'read', subject: 'Document' }, { action: 'read', subject: 'Document', inverted: true }), 'read', 'Document')).toBeNull();
    const filter = accessibleFilter(ability({ action: 'read', subject: 'Document', conditions: { ownerId: UUID } }, { action: 'read', subject: 'Document', inverted: true, conditions: {} }), 'read', 'Document');
    expect(filter).toEqual({ $or: [{ $and: [mine, { $not: ALL }] }] });
  });

  it('a field-scoped restriction does not limit whole records', () => {
    const filter = accessibleFilter(
      ability({ action: 'read', subject: 'Document', conditions: { ownerId: UUID } }, { action: 'read', subject: 'Document', inverted: true, fields: ['body'], conditions: { status: 'draft' } }),
      'read',
      'Document',
    );
    expect(filter).toEqual({ $or: [mine] });
  });

  it('uses the operands in the form SQL compares them: lower-case uuids, ISO timestamps', () => {
    const filter = accessibleFilter(
      ability({ action: 'read', subject: 'Document', conditions: { ownerId: { $in: [UUID.toUpperCase()] }, createdAt: { $lt: '2024-01-01T10:00:00Z' } } }),
      'read',
      'Document',
    );
    expect(filter).toEqual({
      $or: [{ $and: [{ $or: [{ $and: [notNull('ownerId'), { ownerId: { $in: [UUID] } }] }] }, { $and: [notNull('createdAt'), { createdAt: { $lt: '2024-01-01T10:00:00.000Z' } }] }] }],
    });
  });

  it("names a policy field by its entity property where they differ: a Session's userId is the relation `user`", () => {
    const filter = accessibleFilter(ability({ action: 'read', subject: 'Session', conditions: { userId: UUID, ip: { $ne: '10.0.0.1' } } }), 'read', 'Session');
    expect(filter).toEqual({
      $or: [{ $and: [{ $and: [notNull('user'), { user: UUID }] }, { $or: [isNull('ip'), { ip: { $ne: '10.0.0.1' } }] }] }],
    });
  });
});
