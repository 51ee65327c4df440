import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

/** The newest modification time of the files under `dir`, 0 when there are none. */
function newestUnder(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Tests run `berth` as it ships: bin/ runs the compiled dist/. Rebuilds it when a source (or the
 * build's config) changed since it was built, so a test never exercises stale JavaScript.
 */
export function ensureBuilt(): void {
  const built = mtimeOf(join(repoRoot, 'dist/cli/main.js'));
  const sources = Math.max(newestUnder(join(repoRoot, 'src')), mtimeOf(join(repoRoot, 'tsconfig.json')), mtimeOf(join(repoRoot, 'tsconfig.build.json')));
  if (built > sources) return;
  const { status } = spawnSync(process.execPath, [join(repoRoot, 'scripts/build.mjs')], { cwd: repoRoot, stdio: 'inherit' });
  if (status !== 0) throw new Error('npm run build failed: the tests run the compiled build');
}
