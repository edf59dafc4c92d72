/**
 * The vocabulary of the policy engine: actions, subjects and the fields a rule may name. A rule
 * mentioning anything else is refused before it is stored (API.md "Policies").
 */
export const ACTIONS = ['manage', 'create', 'read', 'update', 'delete', 'publish', 'assign', 'escalate'] as const;
export type Action = (typeof ACTIONS)[number];

/**
 * Actions that exist only on `Role`: `assign` (grant or remove that role, per role record) and
 * `escalate` (write rules one does not hold, change `requireMfa`, edit a built-in role). `manage`
 * includes them, as it includes every action.
 */
export const ROLE_ONLY_ACTIONS: readonly Action[] = ['assign', 'escalate'];

export const SUBJECTS = ['all', 'User', 'Role', 'Department', 'Document', 'AuditEvent', 'Session', 'Client', 'ResourceServer'] as const;
export type SubjectName = (typeof SUBJECTS)[number];
export type SubjectType = Exclude<SubjectName, 'all'>;

/**
 * uuid/string/number/boolean/date may appear in conditions; list, json and computed fields only in
 * `fields` (json also through dotted paths): a condition must translate to SQL on a column.
 */
export type FieldType = 'uuid' | 'string' | 'number' | 'boolean' | 'date' | 'list' | 'json' | 'computed';

export const SUBJECT_FIELDS: Record<SubjectType, Record<string, FieldType>> = {
  User: {
    id: 'uuid',
    email: 'string',
    displayName: 'string',
    emailVerified: 'boolean',
    status: 'string',
    roles: 'list',
    departmentId: 'uuid',
    mfaEnabled: 'computed',
    createdAt: 'date',
    updatedAt: 'date',
  },
  Role: { id: 'uuid', name: 'string', description: 'string', permissions: 'list', requireMfa: 'boolean', builtIn: 'boolean' },
  Department: { id: 'uuid', name: 'string', createdAt: 'date' },
  Document: {
    id: 'uuid',
    title: 'string',
    body: 'string',
    status: 'string',
    classification: 'string',
    departmentId: 'uuid',
    ownerId: 'uuid',
    version: 'number',
    createdAt: 'date',
    updatedAt: 'date',
  },
  AuditEvent: {
    id: 'uuid',
    type: 'string',
    at: 'date',
    actorId: 'uuid',
    targetType: 'string',
    targetId: 'string',
    ip: 'string',
    userAgent: 'string',
    requestId: 'string',
    outcome: 'string',
    details: 'json',
  },
  Session: { id: 'uuid', userId: 'uuid', createdAt: 'date', lastUsedAt: 'date', ip: 'string', userAgent: 'string', amr: 'list' },
  // OpenID Connect relying parties and the APIs they call (src/oidc/).
  Client: {
    id: 'uuid',
    clientId: 'string',
    name: 'string',
    redirectUris: 'list',
    postLogoutRedirectUris: 'list',
    grantTypes: 'list',
    scopes: 'list',
    resources: 'list',
    firstParty: 'boolean',
    backchannelLogoutUri: 'string',
    accessTokenTtl: 'number',
    createdAt: 'date',
    updatedAt: 'date',
  },
  ResourceServer: { id: 'uuid', name: 'string', audience: 'string', scopes: 'list', accessTokenTtl: 'number', createdAt: 'date', updatedAt: 'date' },
};

/** Fields every subject has: the only ones a rule on `all` may condition on. */
export const COMMON_FIELDS: Record<string, FieldType> = { id: 'uuid' };

export const PLACEHOLDERS = { '${user.id}': 'id', '${user.departmentId}': 'departmentId' } as const;
export type Placeholder = keyof typeof PLACEHOLDERS;

export function fieldsOf(subject: SubjectName): Record<string, FieldType> {
  return subject === 'all' ? COMMON_FIELDS : SUBJECT_FIELDS[subject];
}
