import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/berth-process.js';
import { repoRoot } from '../support/paths.js';
import { run } from '../support/run.js';

/**
 * Berth installed the way a stranger installs it: `npm pack` in the checkout, then `npm install -g`
 * of that tarball into an empty prefix, and the installed `berth` serving from a config file. Only
 * what the package ships is there: no checkout, no TypeScript, no tsx.
 */
describe('the packed package', () => {
  let work: string;
  let prefix: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-pack-'));
    prefix = join(work, 'prefix');
    // --ignore-scripts: dist/ is already built for this run (global setup); rebuilding it here would
    // pull it from under the other test files running at the same time.
    const pack = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: repoRoot, timeoutMs: 120_000 });
    expect(pack.code, pack.stderr).toBe(0);
  }, 180_000);
  afterAll(async () => rm(work, { recursive: true, force: true }));

  it('installs into an empty prefix with its runtime dependencies only, and serves with a config file', async () => {
    const [tarball] = (await readdir(work)).filter((name) => name.endsWith('.tgz'));
    expect(tarball).toMatch(/^berth-\d+\.\d+\.\d+\.tgz$/);
    const listing = await run('tar', ['-tzf', join(work, tarball!)]);
    const files = listing.stdout.split('\n');
    expect(files).toEqual(expect.arrayContaining(['package/bin/berth.js', 'package/dist/cli/main.js', 'package/LICENSE', 'package/examples/embedded.yaml']));
    expect(files.filter((file) => file.startsWith('package/src/') || file.startsWith('package/test/'))).toEqual([]);

    const install = await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', join(work, tarball!)], { timeoutMs: 600_000 });
    expect(install.code, install.stderr).toBe(0);
    const modules = await readdir(join(prefix, 'lib/node_modules/berth/node_modules'));
    for (const devOnly of ['tsx', 'typescript', 'vitest', 'esbuild']) expect(modules).not.toContain(devOnly);

    const berth = join(prefix, 'bin/berth');
    const version = await run(berth, ['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);

    const port = await freePort();
    const config = join(work, 'berth.yaml');
    await writeFile(config, `port: ${port}\ndata: ./data\nlog-level: info\n`);
    const child = spawn(berth, ['serve', '--config', config], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
    try {
      await expect.poll(() => log.includes('"msg":"berth started"'), { timeout: 30_000, interval: 100 }).toBe(true);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      expect(log).toContain(`"data":"${join(work, 'data')}"`);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await new Promise((done) => child.on('exit', done))).toBe(0);
  }, 660_000);
});
