import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Module edges (docs/architecture.md): which folder of src/ may import which. A crossed edge fails
 * `npm run lint`. The lists are the edges that hold today: shrink them, never grow them without
 * changing the architecture page in the same commit.
 */
const UP = '^(\\./|(\\.\\./)+)'; // a relative import: from src/ itself, or up out of a folder of src/
const leaves = (modules) => `${UP}(${modules.join('|')})(/|$)`;
const only = (module, allowed) => `${UP}${module}/(?!(${allowed.join('|')})$)`;
const edge = (regex, message) => ({ regex, message });

/** What auth/ offers the rest of the app: its module, what AuthModule exports, and their types. */
const AUTH_PUBLIC = [
  'auth\\.module',
  'authentication\\.guard',
  'principal/(principal|principal-cache|current-principal\\.decorator)',
  'passwords/(password-hasher|password-policy)',
  'sessions/(session\\.service|user-sessions\\.service|session-credentials)',
  'mfa/mfa-management\\.service',
  'lockout/lockout\\.service',
  'email-tokens/(email-token\\.service|email-token\\.entity)',
  'recovery/password-change\\.service',
  'http/auth\\.dto',
  // The sign-in surface the hosted pages (src/pages) drive with the same services as the API.
  'login/(password-login\\.service|sign-in\\.service)',
  'mfa/(second-factor\\.service|recovery-codes)',
  'http/(mfa\\.dto|session-cookie)',
  'strategies/session-cookie\\.strategy',
  'registration/registration\\.service',
  'recovery/password-reset\\.service',
  'email-change/email-change\\.service',
  'google/google-account\\.service',
];
/** The OIDC provider (src/oidc) also signs with the API's key set and reads Bastion's own session. */
const AUTH_FOR_OIDC = [...AUTH_PUBLIC, 'tokens/(signing-keys|tokens\\.module)', 'principal/principal-resolver', 'sessions/cookie-sessions'];
const NO_OLD_CHANGE_FEED = edge('(^|/)auth/change-feed(/|$)', 'The change feed is database infrastructure: src/database/change-feed.');
// class-validator's IsOptional() lets `null` through as if the field were absent: use common/http/may-be-absent.ts.
const NO_IS_OPTIONAL = [{ name: 'class-validator', importNames: ['IsOptional'], message: 'IsOptional() skips null too: use MayBeAbsent() / MayBeAbsentOrNull() from src/common/http/may-be-absent.ts' }];
const AUTH_INTERNALS = edge(only('auth', AUTH_PUBLIC), 'Use what auth/ exports (AuthModule and its exported services; see AUTH_PUBLIC), not its internals.');
const FEATURES = ['auth', 'policies', 'users', 'documents', 'departments', 'audit'];

const moduleEdges = [
  // Infrastructure knows no feature. database/entities.ts is the ORM's list of every entity.
  { files: ['src/{common,config,database,mail,metrics,redis,health}/**/*.ts'], ignores: ['src/database/entities.ts'],
    patterns: [edge(leaves(FEATURES), 'Infrastructure (common, config, database, mail, metrics, redis, health) imports no feature module.')] },
  // The policy engine knows no business module: they register subject loaders with it.
  { files: ['src/policies/**/*.ts'],
    patterns: [
      edge(leaves(['users', 'documents', 'departments']), 'policies/ imports no business module: register a subject loader (SubjectRecords) from the module instead.'),
      edge(only('auth', ['auth\\.module', 'principal/principal', 'principal/principal-cache', 'principal/multi-factor']), 'policies/ uses only AuthModule, the principal and the multi-factor rule from auth/.'),
    ] },
  { files: ['src/auth/**/*.ts'],
    patterns: [
      edge(leaves(['documents', 'departments']), 'auth/ imports no business module but users/ (the account it signs in).'),
      edge(only('users', ['user\\.entity', 'user-roles']), 'auth/ uses only the User entity and user-roles from users/.'),
      edge(only('policies', ['check-policy\\.decorator', 'subject-records']), 'auth/ uses only the route decorators and SubjectRecords from policies/.'),
    ] },
  { files: ['src/users/**/*.ts'],
    patterns: [
      edge(leaves(['documents']), 'users/ does not import documents/.'),
      edge(only('departments', ['department\\.entity']), 'users/ uses only the Department entity (the relation) from departments/.'),
      AUTH_INTERNALS,
    ] },
  { files: ['src/departments/**/*.ts'],
    patterns: [edge(leaves(['auth', 'users', 'documents']), 'departments/ imports no other business module and nothing of auth/.')] },
  { files: ['src/documents/**/*.ts'],
    patterns: [
      edge(leaves(['auth']), 'documents/ imports nothing of auth/: the principal reaches it through policies/.'),
      edge(only('users', ['user\\.entity']), 'documents/ uses only the User entity (the relation) from users/.'),
      edge(only('departments', ['department\\.entity']), 'documents/ uses only the Department entity (the relation) from departments/.'),
    ] },
  { files: ['src/audit/**/*.ts'],
    patterns: [edge(leaves(['auth', 'users', 'documents', 'departments']), 'audit/ imports no business module and nothing of auth/.')] },
  // Everything else in src/ (the composition root, future modules) goes through auth's public surface.
  { files: ['src/oidc/**/*.ts'], patterns: [edge(only('auth', AUTH_FOR_OIDC), 'oidc/ uses what auth/ exports, its key set, PrincipalResolver and CookieSessions; not other auth internals.')] },
  { files: ['src/*.ts', 'src/!(auth|users|policies|common|config|database|mail|metrics|redis|health|departments|documents|audit|oidc)/**/*.ts'], patterns: [AUTH_INTERNALS] },
].map(({ patterns, ...block }) => ({ ...block, rules: { 'no-restricted-imports': ['error', { patterns: [NO_OLD_CHANGE_FEED, ...patterns], paths: NO_IS_OPTIONAL }] } }));

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.data/', 'migrations/.snapshot-*.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { sourceType: 'module' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
      'no-restricted-imports': ['error', { patterns: [NO_OLD_CHANGE_FEED], paths: NO_IS_OPTIONAL }],
    },
  },
  ...moduleEdges,
  {
    // Stand-alone example apps (plain Node ES modules, run with `node`).
    files: ['examples/**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off', 'no-console': 'off' },
  },
);
