import { DomainError } from '../common/problem/domain-error';
import type { FieldError } from '../common/problem/problem-details';
import { BUILT_IN_ROLES } from './built-in-roles';
import { MAX_RULES, validatePermissions } from './permission-validator';

const UUID = '3f0c1a52-8d0e-4f5b-9a51-2b8f6f0e7c11';
const doc = (conditions: unknown, extra: Record<string, unknown> = {}) => [{ action: 'read', subject: 'Document', conditions, ...extra }];

/** The 400's field errors; fails the test if the input is accepted or something else is thrown. */
function refusal(input: unknown): FieldError[] {
  try {
    validatePermissions(input);
  } catch (err) {
    if (err instanceof DomainError && err.code === 'validation') return err.errors ?? [];
    throw err;
  }
  throw new Error(`accepted: ${JSON.stringify(input)}`);
}

describe('validatePermissions', () => {
  describe('accepts', () => {
    it.each(BUILT_IN_ROLES.map((r) => [r.name, r.permissions] as const))('the built-in role %s, unchanged', (_name, permissions) => {
      expect(validatePermissions(JSON.parse(JSON.stringify(permissions)))).toEqual(permissions);
    });

    it('every operator, null operands, $and/$or, placeholders on ids, fields, inverted, reason and JSON paths', () => {
      const rules = [
        {
          action: 'read',
          subject: 'Document',
          conditions: {
            title: { $eq: 'a', $ne: null, $in: ['a', null], $nin: [null], $lt: 'z', $lte: 'z', $gt: '', $gte: '' },
            version: { $gte: 1, $lt: 2.5 },
            createdAt: { $lt: '2024-01-01T00:00:00Z', $gte: '2023-01-01T00:00:00.000Z' },
            departmentId: '${user.departmentId}',
            ownerId: { $in: ['${user.id}', UUID.toUpperCase()] },
            $or: [{ status: 'draft' }, { status: { $exists: false } }, { $and: [{ classification: null }] }],
          },
          fields: ['title', 'body'],
          inverted: true,
          reason: 'drafts stay private',
        },
        { action: 'read', subject: 'AuditEvent', conditions: { 'details.reason': 'x', actorId: null } },
        { action: 'read', subject: 'User', conditions: { emailVerified: true, departmentId: { $ne: null } } },
        { action: 'manage', subject: 'all', conditions: { id: UUID } },
        { action: 'publish', subject: 'Document' },
        { action: 'assign', subject: 'Role', conditions: { name: { $in: ['viewer', 'editor'] } } },
        { action: 'escalate', subject: 'Role', conditions: { builtIn: false } },
      ];
      expect(validatePermissions(rules)).toEqual(rules);
    });

    it('an empty list, and conditions nested exactly four levels deep', () => {
      expect(validatePermissions([])).toEqual([]);
      const deep = { $and: [{ $and: [{ $and: [{ $and: [{ title: 'a' }] }] }] }] };
      expect(validatePermissions(doc(deep))).toEqual(doc(deep));
    });
  });

  describe('refuses with the path of each problem', () => {
    it.each<[string, unknown, FieldError[]]>([
      ['an unknown action', [{ action: 'fly', subject: 'Document' }], [{ field: 'permissions[0].action', message: 'must be one of manage, create, read, update, delete, publish, assign, escalate' }]],
      [
        'an unknown subject',
        [{ action: 'read', subject: 'Invoice' }],
        [{ field: 'permissions[0].subject', message: 'must be one of all, User, Role, Department, Document, AuditEvent, Session, Client, ResourceServer' }],
      ],
      ['an unknown field in conditions', doc({ salary: 1 }), [{ field: 'permissions[0].conditions.salary', message: 'unknown field' }]],
      ['an unknown field in `fields`', doc(undefined, { fields: ['title', 'salary'] }), [{ field: 'permissions[0].fields[1]', message: 'unknown field for Document' }]],
      ['a field of another subject on `all`', [{ action: 'read', subject: 'all', conditions: { title: 'a' } }], [{ field: 'permissions[0].conditions.title', message: 'unknown field' }]],
      ['a list field in conditions', [{ action: 'read', subject: 'User', conditions: { roles: 'admin' } }], [{ field: 'permissions[0].conditions.roles', message: 'unknown field' }]],
      ['$regex', doc({ title: { $regex: '^a' } }), [{ field: 'permissions[0].conditions.title.$regex', message: 'unknown operator' }]],
      ['$where', doc({ $where: 'this.title === "a"' }), [{ field: 'permissions[0].conditions.$where', message: 'unknown operator' }]],
      ['$elemMatch', doc({ title: { $elemMatch: { $eq: 'a' } } }), [{ field: 'permissions[0].conditions.title.$elemMatch', message: 'unknown operator' }]],
      ['a function value', doc({ title: () => true }), [{ field: 'permissions[0].conditions.title', message: 'must be a string of at most 256 characters or null' }]],
      ['a function as $where', doc({ $where: function where() { return true; } }), [{ field: 'permissions[0].conditions.$where', message: 'unknown operator' }]],
      ['functions as conditions', doc(() => true), [{ field: 'permissions[0].conditions', message: 'must be an object' }]],
      ['a function in $in', doc({ title: { $in: ['a', () => 'b'] } }), [{ field: 'permissions[0].conditions.title.$in[1]', message: 'must be a string of at most 256 characters or null' }]],
      ['`constructor` as a field', doc({ constructor: 'x' }), [{ field: 'permissions[0].conditions.constructor', message: 'is not allowed' }]],
      ['`prototype` as a field', doc({ prototype: 'x' }), [{ field: 'permissions[0].conditions.prototype', message: 'is not allowed' }]],
      ['`toString` as a field', doc({ toString: 'x' }), [{ field: 'permissions[0].conditions.toString', message: 'unknown field' }]],
      ['`toString` in `fields`', doc(undefined, { fields: ['toString'] }), [{ field: 'permissions[0].fields[0]', message: 'unknown field for Document' }]],
      ['`hasOwnProperty` as an operator', doc({ title: { hasOwnProperty: 'x' } }), [{ field: 'permissions[0].conditions.title.hasOwnProperty', message: 'unknown operator' }]],
      [
        'a malformed placeholder',
        doc({ ownerId: '${user.email}' }),
        [{ field: 'permissions[0].conditions.ownerId', message: 'unknown placeholder; use ${user.id} or ${user.departmentId}' }],
      ],
      ['a placeholder inside a longer string', doc({ ownerId: 'x${user.id}' }), [{ field: 'permissions[0].conditions.ownerId', message: 'unknown placeholder; use ${user.id} or ${user.departmentId}' }]],
      ['a placeholder on a non-id field', doc({ title: '${user.id}' }), [{ field: 'permissions[0].conditions.title', message: 'placeholders stand for ids: use them on id fields' }]],
      ['a number for a string', doc({ title: 5 }), [{ field: 'permissions[0].conditions.title', message: 'must be a string of at most 256 characters or null' }]],
      ['a string for a number', doc({ version: { $gt: '1' } }), [{ field: 'permissions[0].conditions.version.$gt', message: 'must be a number or null' }]],
      ['a non-finite number', doc({ version: { $lt: Infinity } }), [{ field: 'permissions[0].conditions.version.$lt', message: 'must be a number or null' }]],
      ['a malformed uuid', doc({ ownerId: 'not-a-uuid' }), [{ field: 'permissions[0].conditions.ownerId', message: 'must be a uuid or null' }]],
      ['a date without time', doc({ createdAt: '2024-01-01' }), [{ field: 'permissions[0].conditions.createdAt', message: 'must be a UTC ISO 8601 timestamp (years 1000–9999) or null' }]],
      ['a string for a boolean', [{ action: 'read', subject: 'User', conditions: { emailVerified: 'yes' } }], [{ field: 'permissions[0].conditions.emailVerified', message: 'must be a boolean or null' }]],
      ['an over-long string', doc({ title: 'x'.repeat(257) }), [{ field: 'permissions[0].conditions.title', message: 'must be a string of at most 256 characters or null' }]],
      ['$exists without a boolean', doc({ title: { $exists: 1 } }), [{ field: 'permissions[0].conditions.title.$exists', message: 'must be a boolean' }]],
      ['$in without an array', doc({ title: { $in: 'a' } }), [{ field: 'permissions[0].conditions.title.$in', message: 'must be an array of at most 100 values' }]],
      ['$lt on a uuid', doc({ ownerId: { $lt: UUID } }), [{ field: 'permissions[0].conditions.ownerId.$lt', message: 'cannot compare a uuid field' }]],
      ['$gte on a boolean', [{ action: 'read', subject: 'User', conditions: { emailVerified: { $gte: false } } }], [{ field: 'permissions[0].conditions.emailVerified.$gte', message: 'cannot compare a boolean field' }]],
      ['$lt with null', doc({ version: { $lt: null } }), [{ field: 'permissions[0].conditions.version.$lt', message: 'cannot compare with null' }]],
      ['an operator object without operators', doc({ title: {} }), [{ field: 'permissions[0].conditions.title', message: 'must name at least one operator' }]],
      ['an empty $or', doc({ $or: [] }), [{ field: 'permissions[0].conditions.$or', message: 'must be a non-empty array of conditions' }]],
      ['empty conditions', doc({}), [{ field: 'permissions[0].conditions', message: 'must not be empty (omit it for an unconditional rule)' }]],
      ['an empty condition in $and', doc({ $and: [{ title: 'a' }, {}] }), [{ field: 'permissions[0].conditions.$and[1]', message: 'must not be empty (omit it for an unconditional rule)' }]],
      ['a non-object in $and', doc({ $and: ['title'] }), [{ field: 'permissions[0].conditions.$and[0]', message: 'must be an object' }]],
      ['a JSON path into a non-JSON field', doc({ 'title.length': 1 }), [{ field: 'permissions[0].conditions.title.length', message: 'unknown field' }]],
      ['a JSON path with odd characters', [{ action: 'read', subject: 'AuditEvent', conditions: { "details.a'b": 'x' } }], [{ field: "permissions[0].conditions.details.a'b", message: 'unknown field' }]],
      ['assign on another subject than Role', [{ action: 'assign', subject: 'User' }], [{ field: 'permissions[0].subject', message: 'must be Role for the action assign' }]],
      ['escalate on all', [{ action: 'escalate', subject: 'all' }], [{ field: 'permissions[0].subject', message: 'must be Role for the action escalate' }]],
      ['an extra rule property', [{ action: 'read', subject: 'Document', priority: 1 }], [{ field: 'permissions[0].priority', message: 'is not a rule property' }]],
      ['a non-boolean `inverted`', [{ action: 'read', subject: 'Document', inverted: 'yes' }], [{ field: 'permissions[0].inverted', message: 'must be a boolean' }]],
      ['an over-long reason', [{ action: 'read', subject: 'Document', reason: 'r'.repeat(201) }], [{ field: 'permissions[0].reason', message: 'must be a string of at most 200 characters' }]],
      ['empty `fields`', doc(undefined, { fields: [] }), [{ field: 'permissions[0].fields', message: 'must be a non-empty array of field names' }]],
      ['a rule that is not an object', [null], [{ field: 'permissions[0]', message: 'must be an object' }]],
      ['a rule that is an array', [['read', 'Document']], [{ field: 'permissions[0]', message: 'must be an object' }]],
    ])('%s', (_what, input, errors) => {
      expect(refusal(input)).toEqual(errors);
    });

    it('`__proto__` as an own key (JSON.parse makes one) in conditions, as an operator and as a rule property', () => {
      const inConditions = JSON.parse('[{"action":"read","subject":"Document","conditions":{"__proto__":{"title":"a"}}}]');
      expect(refusal(inConditions)).toEqual([{ field: 'permissions[0].conditions.__proto__', message: 'is not allowed' }]);
      const asOperator = JSON.parse('[{"action":"read","subject":"Document","conditions":{"title":{"__proto__":"a"}}}]');
      expect(refusal(asOperator)).toEqual([{ field: 'permissions[0].conditions.title.__proto__', message: 'is not allowed' }]);
      const asProperty = JSON.parse('[{"action":"read","subject":"Document","__proto__":{"inverted":true}}]');
      expect(refusal(asProperty)).toEqual([{ field: 'permissions[0].__proto__', message: 'is not a rule property' }]);
      expect(({} as Record<string, unknown>).title).toBeUndefined();
    });

    it('an object with a prototype other than Object.prototype (class instances, null-prototype objects)', () => {
      class Conditions {
        title = 'a';
      }
      expect(refusal(doc(new Conditions()))).toEqual([{ field: 'permissions[0].conditions', message: 'must be an object' }]);
      expect(refusal(doc(Object.assign(Object.create(null), { title: 'a' })))).toEqual([{ field: 'permissions[0].conditions', message: 'must be an object' }]);
    });

    it('conditions nested deeper than four levels', () => {
      const tooDeep = { $and: [{ $or: [{ $and: [{ $or: [{ $and: [{ title: 'a' }] }] }] }] }] };
      expect(refusal(doc(tooDeep))).toEqual([{ field: 'permissions[0].conditions.$and[0].$or[0].$and[0].$or[0].$and[0]', message: 'is nested deeper than 4 levels' }]);
    });

    it('$in and $nin with more than 100 values', () => {
      const values = Array.from({ length: 101 }, (_, i) => `t${i}`);
      expect(refusal(doc({ title: { $in: values } }))).toEqual([{ field: 'permissions[0].conditions.title.$in', message: 'must be an array of at most 100 values' }]);
      expect(refusal(doc({ title: { $nin: values } }))).toEqual([{ field: 'permissions[0].conditions.title.$nin', message: 'must be an array of at most 100 values' }]);
      expect(validatePermissions(doc({ title: { $in: values.slice(1) } }))).toHaveLength(1);
    });

    it(`more than ${MAX_RULES} rules, before looking at any of them`, () => {
      const rules = Array.from({ length: MAX_RULES + 1 }, () => ({ action: 'fly', subject: 'Nowhere' }));
      expect(refusal(rules)).toEqual([{ field: 'permissions', message: 'must have at most 100 rules' }]);
      expect(validatePermissions(Array.from({ length: MAX_RULES }, () => ({ action: 'read', subject: 'Document' })))).toHaveLength(MAX_RULES);
    });

    it('more than 16 KB of rules', () => {
      const rules = Array.from({ length: 70 }, () => ({ action: 'read', subject: 'Document', conditions: { title: 'x'.repeat(250) } }));
      expect(JSON.stringify(rules).length).toBeGreaterThan(16 * 1024);
      expect(refusal(rules)).toEqual([{ field: 'permissions', message: 'must be at most 16384 bytes' }]);
    });

    it.each([{}, 'rules', null, 42, { 0: { action: 'read', subject: 'Document' }, length: 1 }])('input that is not an array: %p', (input) => {
      expect(refusal(input)).toEqual([{ field: 'permissions', message: 'must be an array of rules' }]);
    });

    it('reports every problem of every rule at once, under the path it was given', () => {
      const errors = refusal([
        { action: 'read', subject: 'Document' },
        { action: 'fly', subject: 'Document', conditions: { title: { $regex: 'a' }, __secret: 1 } },
        { action: 'read', subject: 'Document', conditions: { $or: [{ version: 'x' }, { ownerId: '${user.email}' }] } },
      ]);
      expect(errors).toEqual([
        { field: 'permissions[1].action', message: 'must be one of manage, create, read, update, delete, publish, assign, escalate' },
        { field: 'permissions[1].conditions.title.$regex', message: 'unknown operator' },
        { field: 'permissions[1].conditions.__secret', message: 'unknown field' },
        { field: 'permissions[2].conditions.$or[0].version', message: 'must be a number or null' },
        { field: 'permissions[2].conditions.$or[1].ownerId', message: 'unknown placeholder; use ${user.id} or ${user.departmentId}' },
      ]);
      try {
        validatePermissions({}, 'body.permissions');
      } catch (err) {
        expect((err as DomainError).errors).toEqual([{ field: 'body.permissions', message: 'must be an array of rules' }]);
      }
      expect.assertions(2);
    });
  });
});
