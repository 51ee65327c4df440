// `npm run build` (and `prepare`, so `npm install` in a checkout builds): compiles src/ into dist/,
// the JavaScript that bin/ runs and the package ships. dist/ is emptied first so that a source file
// removed since the last build does not linger in it.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const { status } = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
process.exit(status ?? 1);
