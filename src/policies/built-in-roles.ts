import type { StoredPermission } from './role.entity';

export interface BuiltInRole {
  name: string;
  description: string;
  permissions: StoredPermission[];
}

const DEPT = '${user.departmentId}';
const ME = '${user.id}';

/** The four built-in roles of API.md. Seeded only when missing: operators' edits survive. */
export const BUILT_IN_ROLES: BuiltInRole[] = [
  { name: 'admin', description: 'Manages everything', permissions: [{ action: 'manage', subject: 'all' }] },
  {
    name: 'manager',
    description: 'Manages the documents of their department; reads its users and the department',
    permissions: [
      { action: 'manage', subject: 'Document', conditions: { departmentId: DEPT } },
      { action: 'read', subject: 'User', conditions: { departmentId: DEPT } },
      { action: 'read', subject: 'Department', conditions: { id: DEPT } },
    ],
  },
  {
    name: 'editor',
    description: 'Writes drafts in their department; reads its non-confidential documents',
    permissions: [
      { action: 'create', subject: 'Document', conditions: { departmentId: DEPT, classification: { $ne: 'confidential' } } },
      { action: 'read', subject: 'Document', conditions: { departmentId: DEPT, classification: { $ne: 'confidential' } } },
      {
        action: 'update',
        subject: 'Document',
        fields: ['title', 'body', 'classification'],
        conditions: { ownerId: ME, departmentId: DEPT, status: 'draft', classification: { $ne: 'confidential' } },
      },
      { action: 'delete', subject: 'Document', conditions: { ownerId: ME, departmentId: DEPT, status: 'draft' } },
    ],
  },
  {
    name: 'viewer',
    description: 'Reads published, non-confidential documents of their department (default for new users)',
    permissions: [
      { action: 'read', subject: 'Document', conditions: { departmentId: DEPT, status: 'published', classification: { $ne: 'confidential' } } },
      { action: 'read', subject: 'Department', conditions: { id: DEPT } },
    ],
  },
];
