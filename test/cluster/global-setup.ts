import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The suite runs the production build: build it when it is missing. */
export default function globalSetup(): void {
  const root = join(__dirname, '..', '..');
  if (!existsSync(join(root, 'dist', 'src', 'main.js'))) {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  }
}
