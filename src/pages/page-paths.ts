import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The project root: the nearest directory above this file that holds `views/` (src/ in development, dist/src/ when built). */
function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'views', 'layout.eta'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('views/ not found above ' + __dirname);
    dir = parent;
  }
  return dir;
}

const ROOT = projectRoot();
export const VIEWS_DIR = join(ROOT, 'views');
export const ASSETS_DIR = join(ROOT, 'assets');
/** Pico's classless stylesheet, served as /assets/pico.classless.min.css beside our own files. */
export const PICO_DIR = dirname(require.resolve('@picocss/pico/css/pico.classless.min.css'));
