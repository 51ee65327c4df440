import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, killRunning, killServe, logLines, spawnBerth, stopServe, until, waitHealthy, type BerthProcess } from '../support/berth-process.js';

/**
 * `berth serve --workers N`: one supervising process, N servers sharing its port. Like the other
 * `serve` process tests these run the embedded SQLite default, whatever BERTH_TEST_DB says.
 */

let tempRoot: string;
beforeAll(async () => {
  tempRoot = await mkdtemp(join(tmpdir(), 'berth-workers-'));
});
afterEach(killRunning);
afterAll(async () => rm(tempRoot, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pids that logged `berth started`: one per worker that came up. */
const workerPids = (proc: BerthProcess) => logLines(proc).filter((line) => line.msg === 'berth started').map((line) => Number(line.pid));

async function startWorkers(count: number): Promise<{ proc: BerthProcess; dataDir: string; workers: number[] }> {
  const dataDir = await mkdtemp(join(tempRoot, 'data-'));
  const port = await freePort();
  const proc = spawnBerth(['serve', '--data', dataDir, '--port', String(port), '--workers', String(count)], {}, port);
  await waitHealthy(proc);
  const workers = await until(`${count} workers`, () => {
    const pids = workerPids(proc);
    return pids.length === count && logLines(proc).some((line) => line.msg === 'workers serving') ? pids : undefined;
  });
  return { proc, dataDir, workers };
}

/** One request on a connection of its own, so that the supervisor hands each to a worker anew. */
function onNewConnection(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (text: string) => (body += text));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function ownerToken(proc: BerthProcess, dataDir: string): Promise<{ token: string; account: string }> {
  const apikey = readFileSync(join(dataDir, 'owner-apikey'), 'utf8').trim();
  const grant = new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey });
  const token = ((await (await fetch(`${proc.url}/identity/token`, { method: 'POST', body: grant })).json()) as { access_token: string }).access_token;
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { account: { bss: string } };
  return { token, account: claims.account.bss };
}

describe('berth serve --workers', () => {
  it('runs the workers as children on one port, the owner created once, what one writes seen by all', async () => {
    const { proc, dataDir, workers } = await startWorkers(2);
    expect(new Set(workers).size).toBe(2);
    expect(workers).not.toContain(proc.child.pid);
    // The first worker migrated and bootstrapped alone: one owner, one key printed.
    expect(proc.stderr().match(/Berth created the account owner/g)).toHaveLength(1);

    const { token, account } = await ownerToken(proc, dataDir);
    const created = await fetch(`${proc.url}/api/v1/namespaces/shared`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, account } });
    expect(created.status).toBe(201);
    for (let i = 0; i < 12; i++) {
      const listed = await onNewConnection(`${proc.url}/api/v1/namespaces`, { authorization: `Bearer ${token}`, account });
      expect(listed.status).toBe(200);
      expect(JSON.parse(listed.body)).toContain('shared');
    }
    // Both workers answered those connections.
    const served = await until('requests logged by both workers', () => {
      const pids = new Set(logLines(proc).filter((line) => line.url === '/api/v1/namespaces').map((line) => Number(line.pid)));
      return pids.size === 2 ? pids : undefined;
    });
    expect([...served].sort()).toEqual([...workers].sort());

    expect(await stopServe(proc)).toEqual({ code: 0, signal: null });
    for (const pid of workers) expect(alive(pid)).toBe(false);
  });

  it('replaces a worker that dies, and keeps serving meanwhile', async () => {
    const { proc, workers } = await startWorkers(2);
    process.kill(workers[0]!, 'SIGKILL');
    const replacement = await until('a replacement worker', () => workerPids(proc).find((pid) => !workers.includes(pid)));
    expect(alive(replacement)).toBe(true);
    expect(logLines(proc).some((line) => line.msg === 'a worker exited; starting another' && line.worker === workers[0] && line.signal === 'SIGKILL')).toBe(true);
    for (let i = 0; i < 4; i++) expect((await onNewConnection(`${proc.url}/healthz`)).status).toBe(200);
    expect(await stopServe(proc)).toEqual({ code: 0, signal: null });
    expect(alive(replacement)).toBe(false);
    expect(alive(workers[1]!)).toBe(false);
  });

  it('stops the workers when the supervisor is killed outright', async () => {
    const { proc, workers } = await startWorkers(2);
    await killServe(proc);
    await until('the workers to stop', () => (workers.every((pid) => !alive(pid)) ? true : undefined));
  });

  it.each(['0', 'many', '65'])('refuses --workers %s in one line', async (value) => {
    const proc = spawnBerth(['serve', '--data', join(tempRoot, 'unused'), '--workers', value]);
    expect((await proc.exited).code).toBe(1);
    expect(proc.stderr().trim().split('\n')).toEqual([`berth: invalid configuration: --workers must be auto or a number from 1 to 64, got "${value}"`]);
  });
});
