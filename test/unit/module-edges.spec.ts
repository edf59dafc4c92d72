import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * The module edges of docs/architecture.md are enforced by eslint.config.mjs (`npm run lint`). This
 * proves the rule fires: each crossing below, linted as if it were a file at that path, must be
 * reported, and each allowed edge beside it must not. ESLint runs in a child process because its
 * config is an ES module, which Jest's CommonJS runtime cannot load.
 */

const root = join(__dirname, '..', '..');

interface Case {
  file: string;
  from: string;
}

const CROSSINGS: Case[] = [
  { file: 'src/policies/probe.ts', from: '../users/users.service' },
  { file: 'src/policies/http/probe.ts', from: '../../documents/document.entity' },
  { file: 'src/policies/probe.ts', from: '../departments/department.entity' },
  { file: 'src/policies/probe.ts', from: '../auth/sessions/session.entity' },
  { file: 'src/users/probe.ts', from: '../auth/change-feed/change-feed.service' },
  { file: 'test/e2e/probe.spec.ts', from: '../../src/auth/change-feed/change-event' },
  { file: 'src/users/probe.ts', from: '../auth/tokens/signing-keys' },
  { file: 'src/users/probe.ts', from: '../documents/document.entity' },
  { file: 'src/departments/probe.ts', from: '../users/user.entity' },
  { file: 'src/departments/probe.ts', from: '../documents/documents.service' },
  { file: 'src/documents/probe.ts', from: '../users/users.service' },
  { file: 'src/documents/probe.ts', from: '../auth/principal/principal' },
  { file: 'src/auth/login/probe.ts', from: '../../documents/document.entity' },
  { file: 'src/auth/login/probe.ts', from: '../../users/users.service' },
  { file: 'src/auth/probe.ts', from: '../policies/ability-factory' },
  { file: 'src/audit/probe.ts', from: '../users/user.entity' },
  { file: 'src/common/probe.ts', from: '../policies/policy-enforcer' },
  { file: 'src/database/probe.ts', from: '../users/user.entity' },
  { file: 'src/pages/probe.ts', from: '../auth/sessions/cookie-sessions' },
  { file: 'src/probe.ts', from: './auth/tokens/access-token.service' },
];

const ALLOWED: Case[] = [
  { file: 'src/users/probe.ts', from: '../database/change-feed/change-feed.service' },
  { file: 'src/policies/probe.ts', from: '../auth/principal/principal-cache' },
  { file: 'src/policies/probe.ts', from: './subject-records' },
  { file: 'src/users/probe.ts', from: '../auth/sessions/session.service' },
  { file: 'src/documents/probe.ts', from: '../users/user.entity' },
  { file: 'src/auth/registration/probe.ts', from: '../../users/user.entity' },
  { file: 'src/auth/probe.ts', from: '../policies/subject-records' },
  { file: 'src/database/entities.ts', from: '../users/user.entity' },
  { file: 'src/pages/probe.ts', from: '../auth/auth.module' },
];

/** The no-restricted-imports messages ESLint reports for each case, in order. */
function lint(cases: Case[]): string[][] {
  const script = `
    import { ESLint } from 'eslint';
    const eslint = new ESLint({ cwd: process.cwd() });
    const cases = JSON.parse(process.argv[1]);
    const out = [];
    for (const c of cases) {
      const [result] = await eslint.lintText(\`import { probe } from '\${c.from}';\\nexport const used = probe;\\n\`, { filePath: c.file });
      out.push(result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message));
    }
    process.stdout.write(JSON.stringify(out));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(cases)], { cwd: root, encoding: 'utf8' }));
}

describe('module edges (docs/architecture.md, enforced by npm run lint)', () => {
  it('reports every crossing of a module edge, and no allowed import', () => {
    const reported = lint([...CROSSINGS, ...ALLOWED]);
    const crossings = reported.slice(0, CROSSINGS.length);
    const allowed = reported.slice(CROSSINGS.length);
    expect(CROSSINGS.filter((_, i) => crossings[i].length === 0)).toEqual([]);
    expect(ALLOWED.map((c, i) => ({ ...c, messages: allowed[i] })).filter((c) => c.messages.length > 0)).toEqual([]);
  });
});
