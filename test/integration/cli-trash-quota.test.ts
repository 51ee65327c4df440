import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/cli/byte-size.js';
import { cliUser, oneLineError, type CliUser } from '../support/cli.js';
import { basicAuth, ownerSession } from '../support/iam.js';
import { imageIndex, MT, OciClient } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** What printTable prints: columns padded to their widest cell, three spaces apart, the last unpadded. */
function table(...rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('   ')).join('\n') + '\n';
}

/**
 * `berth cr trash-list`, `image-restore`, `image-prune-untagged`, `quota`, `quota-set`, `plan` and
 * `plan-upgrade` as a subprocess against a real server whose accounts start on the Free plan.
 * The tests run in order: the plan only goes up, and the trash fills as they go.
 */
describe('berth cr trash, restore, prune, quota and plan', () => {
  let server: TestServer;
  let user: CliUser;
  let owner: OciClient;
  let accountId: string;
  let host: string;

  const json = <T>(text: string) => JSON.parse(text) as T;
  type Quota = { limit: { storage_bytes: number; traffic_bytes: number }; usage: { storage_bytes: number; traffic_bytes: number } };
  const storageUsed = async () => formatBytes(json<Quota>((await user.berthOk(['cr', 'quota', '--output', 'json'])).stdout).usage.storage_bytes);
  const quotaTable = (storage: [string, string], traffic: [string, string]) => table(['Quota', 'Limit', 'Used'], ['Storage', ...storage], ['Traffic', ...traffic]);

  beforeAll(async () => {
    server = await startTestServer({ auth: 'iam', configure: (c) => void (c.defaultPlan = 'Free') });
    host = server.host;
    user = await cliUser();
    const keyFile = join(user.home, 'owner.key');
    writeFileSync(keyFile, `${server.berth.ownerApiKey!}\n`, { mode: 0o600 });
    accountId = (await ownerSession(server)).accountId;
    await user.berthOk(['login', '-a', server.url, '--apikey', `@${keyFile}`]);
    owner = new OciClient(server.url, basicAuth(server.berth.ownerApiKey!));
    for (const namespace of ['cli-quota', 'cli-trash', 'cli-prune', 'cli-keep']) await user.berthOk(['cr', 'namespace-add', namespace]);
  }, 60_000);
  afterAll(async () => {
    expect(await server.serverErrors()).toEqual([]);
    await server.close();
  });

  describe('quota and plan', () => {
    it("quota shows the Free plan's limits and what the account uses; --output json in bytes", async () => {
      await owner.pushImage('cli-quota/app', '1');
      const quota = json<Quota>((await user.berthOk(['cr', 'quota', '--output', 'json'])).stdout);
      expect(quota.limit).toEqual({ storage_bytes: 524288000, traffic_bytes: 5368709120 });
      expect(quota.usage.storage_bytes).toBeGreaterThan(0);
      expect(quota.usage.traffic_bytes).toBe(0);
      expect((await user.berthOk(['cr', 'quota'])).stdout).toBe(quotaTable(['500 MiB', formatBytes(quota.usage.storage_bytes)], ['5 GiB', '0 B']));
    });

    it('quota-set sets only the quotas given, within the plan, and refuses bad values in one line', async () => {
      const used = await storageUsed();
      expect((await user.berthOk(['cr', 'quota-set', '--storage', '100'])).stdout).toBe(`${quotaTable(['100 MiB', used], ['5 GiB', '0 B'])}OK\n`);
      expect((await user.berthOk(['cr', 'quota-set', '--traffic', '1024'])).stdout).toBe(`${quotaTable(['100 MiB', used], ['1 GiB', '0 B'])}OK\n`);

      expect(oneLineError(await user.berth(['cr', 'quota-set']))).toBe('berth: give --storage, --traffic or both (megabytes, -1 for no quota)');
      for (const [flag, value] of [['--storage', '1.5'], ['--storage', 'abc'], ['--traffic', '-2'], ['--traffic', '']]) {
        expect(oneLineError(await user.berth(['cr', 'quota-set', flag!, value!]))).toBe(`berth: ${flag} must be a whole number of megabytes, or -1 for no quota, got "${value}"`);
      }
      expect(oneLineError(await user.berth(['cr', 'quota-set', '--storage', '600']))).toBe(
        'berth: 400 from /api/v1/quotas: storage_megabytes can be at most 500 on the Free plan; upgrade the plan for more',
      );
      // A refused value changes nothing, not even the other quota given with it.
      expect(oneLineError(await user.berth(['cr', 'quota-set', '--traffic', '10', '--storage', '600']))).toContain('at most 500');
      expect((await user.berthOk(['cr', 'quota'])).stdout).toBe(quotaTable(['100 MiB', used], ['1 GiB', '0 B']));
    });

    it('plan shows the plan; plan-upgrade goes up, never down, and only to plans there are', async () => {
      expect((await user.berthOk(['cr', 'plan'])).stdout).toBe("You are on the Free plan in region 'us-south'.\n");
      expect(json((await user.berthOk(['cr', 'plan', '--output', 'json'])).stdout)).toEqual({ plan: 'Free', region: 'us-south' });
      expect(oneLineError(await user.berth(['cr', 'plan-upgrade', 'gold']))).toBe('berth: 400 from /api/v1/plans: plan must be one of Free, Standard, got "gold"');
      expect((await user.berthOk(['cr', 'plan-upgrade'])).stdout).toBe("You are now on the Standard plan in region 'us-south'.\nOK\n");
      expect((await user.berthOk(['cr', 'plan'])).stdout).toBe("You are on the Standard plan in region 'us-south'.\n");
      expect(oneLineError(await user.berth(['cr', 'plan-upgrade', 'free']))).toBe(
        'berth: 400 from /api/v1/plans: the account is on the Standard plan; plans can be upgraded, not downgraded',
      );
      // Upgrading to the plan it is on already is no downgrade.
      expect((await user.berthOk(['cr', 'plan-upgrade', 'standard'])).stdout).toBe("You are now on the Standard plan in region 'us-south'.\nOK\n");
    });

    it("on Standard the account's own quotas stay until set to -1 (unlimited)", async () => {
      const used = await storageUsed();
      expect((await user.berthOk(['cr', 'quota'])).stdout).toBe(quotaTable(['100 MiB', used], ['1 GiB', '0 B']));
      expect((await user.berthOk(['cr', 'quota-set', '--storage', '2048'])).stdout).toBe(`${quotaTable(['2 GiB', used], ['1 GiB', '0 B'])}OK\n`);
      expect((await user.berthOk(['cr', 'quota-set', '--storage', '-1', '--traffic=-1'])).stdout).toBe(`${quotaTable(['Unlimited', used], ['Unlimited', '0 B'])}OK\n`);
      expect(json((await user.berthOk(['cr', 'quota', '--output', 'json'])).stdout)).toMatchObject({ limit: { storage_bytes: -1, traffic_bytes: -1 } });
    });
  });

  describe('trash', () => {
    it('trash-list lists what image-rm put there, with days until expiry and tags; --restrict, --output json', async () => {
      expect((await user.berthOk(['cr', 'trash-list'])).stdout).toBe('No images in the trash.\n');
      const { manifest } = await owner.pushImage('cli-trash/app', '1');
      await user.berthOk(['cr', 'image-rm', 'cli-trash/app:1', '-f']);
      const ref = `${host}/cli-trash/app@${manifest.digest}`;
      const listed = table(['Digest', 'Days until expiry', 'Tags'], [ref, '30', '1']);
      expect((await user.berthOk(['cr', 'trash-list'])).stdout).toBe(listed);
      expect((await user.berthOk(['cr', 'trash-list', '--restrict', 'cli-trash'])).stdout).toBe(listed);
      expect((await user.berthOk(['cr', 'trash-list', '--restrict', 'cli-quota'])).stdout).toBe('No images in the trash.\n');
      expect(json((await user.berthOk(['cr', 'trash-list', '--output', 'json'])).stdout)).toEqual([{ digest: ref, daysUntilExpiry: 30, tags: ['1'] }]);
      expect(oneLineError(await user.berth(['cr', 'trash-list', '--output', 'yaml']))).toContain('--output must be table or json');
    });

    it('image-restore by tag brings the image back with that tag; again, it is not in the trash (404)', async () => {
      expect((await user.berthOk(['cr', 'image-restore', 'cli-trash/app:1'])).stdout).toBe(`Restored '${host}/cli-trash/app:1'.\nOK\n`);
      expect((await user.berthOk(['cr', 'images', '--restrict', 'cli-trash'])).stdout).toMatch(new RegExp(`^${host}/cli-trash/app\\s+1\\s`, 'm'));
      expect((await user.berthOk(['cr', 'trash-list'])).stdout).toBe('No images in the trash.\n');
      expect(oneLineError(await user.berth(['cr', 'image-restore', 'cli-trash/app:1']))).toBe(
        `berth: 404 from /api/v1/trash/${encodeURIComponent(`${host}/cli-trash/app:1`)}/restore: no image tagged 1 is in the trash of this repository`,
      );

      // No tag means latest.
      await owner.pushImage('cli-trash/app', 'latest');
      await user.berthOk(['cr', 'image-rm', 'cli-trash/app', '-f']);
      expect((await user.berthOk(['cr', 'image-restore', 'cli-trash/app'])).stdout).toBe(`Restored '${host}/cli-trash/app:latest'.\nOK\n`);
    });

    it('image-restore by digest brings back the tags no other image took meanwhile, and says which it could not', async () => {
      const a = await owner.pushImage('cli-trash/web', 'a');
      await owner.pushManifest('cli-trash/web', 'b', a.bytes, MT.ociManifest);
      const byDigest = `cli-trash/web@${a.manifest.digest}`;
      await user.berthOk(['cr', 'image-rm', byDigest, '-f']);
      expect((await user.berthOk(['cr', 'trash-list', '--restrict', 'cli-trash'])).stdout).toBe(table(['Digest', 'Days until expiry', 'Tags'], [`${host}/${byDigest}`, '30', 'a, b']));
      const b = await owner.pushImage('cli-trash/web', 'b');

      expect((await user.berthOk(['cr', 'image-restore', byDigest])).stdout).toBe(
        `Restored '${host}/cli-trash/web:a'.\nCould not restore '${host}/cli-trash/web:b': the tag names another image now.\nOK\n`,
      );
      const images = json<Array<{ tag: string; digest: string }>>((await user.berthOk(['cr', 'images', '--restrict', 'cli-trash/web', '--output', 'json'])).stdout);
      expect(Object.fromEntries(images.map((image) => [image.tag, image.digest]))).toEqual({ a: a.manifest.digest, b: b.manifest.digest });
      expect(oneLineError(await user.berth(['cr', 'image-restore', byDigest]))).toBe(
        `berth: 404 from /api/v1/trash/${encodeURIComponent(`${host}/${byDigest}`)}/restoretags: no image ${a.manifest.digest} is in the trash of this repository`,
      );
      // A tag restore refuses outright when the tag names another image now.
      await user.berthOk(['cr', 'image-rm', 'cli-trash/web:b', '-f']);
      await owner.pushImage('cli-trash/web', 'b');
      expect(oneLineError(await user.berth(['cr', 'image-restore', 'cli-trash/web:b']))).toMatch(/^berth: 409 from .*: the tag b names another image now; delete or move it first$/);
    });

    it('image-restore refuses what is not the caller\'s or not a reference', async () => {
      expect(oneLineError(await user.berth(['cr', 'image-restore', 'nobody-ns/app:1']))).toMatch(/^berth: 404 from .*: The namespace 'nobody-ns' does not exist in this region, or is not yours\.$/);
      expect(oneLineError(await user.berth(['cr', 'image-restore', 'no-repository']))).toMatch(/^berth: 400 from .*it must name <namespace>\/<repository>\.$/);
    });
  });

  describe('image-prune-untagged', () => {
    it('says when there is nothing untagged, and exits 0', async () => {
      expect((await user.berthOk(['cr', 'image-prune-untagged'])).stdout).toBe("No untagged images in region 'us-south'.\n");
      expect((await user.berthOk(['cr', 'image-prune-untagged', '--restrict', 'cli-prune'])).stdout).toBe("No untagged images in namespace 'cli-prune'.\n");
    });

    it('moves the untagged images of a namespace to the trash, not the platform images of a tagged index, after -f', async () => {
      const untagged = [await owner.pushImage('cli-prune/app'), await owner.pushImage('cli-prune/app')].map((image) => image.manifest.digest);
      const elsewhere = await owner.pushImage('cli-keep/app');
      const platform = await owner.pushImage('cli-prune/multi');
      await owner.pushManifest('cli-prune/multi', 'v1', JSON.stringify(imageIndex([platform.manifest])), MT.ociIndex);

      expect(oneLineError(await user.berth(['cr', 'image-prune-untagged', '--restrict', 'cli-prune']))).toBe(
        "berth: Delete 2 untagged images in namespace 'cli-prune'? Refusing without confirmation; add -f to do it without asking.",
      );
      expect((await user.berthOk(['cr', 'image-prune-untagged', '--restrict', 'cli-prune', '-f'])).stdout).toBe('Deleted 2 untagged images.\nOK\n');
      const trashed = json<Array<{ digest: string; tags: string[] }>>((await user.berthOk(['cr', 'trash-list', '--restrict', 'cli-prune', '--output', 'json'])).stdout);
      expect(trashed.map((entry) => entry.digest).sort()).toEqual(untagged.map((digest) => `${host}/cli-prune/app@${digest}`).sort());
      expect(trashed.every((entry) => entry.tags.length === 0)).toBe(true);
      // An untagged image shows an empty Tags cell.
      expect((await user.berthOk(['cr', 'trash-list', '--restrict', 'cli-prune'])).stdout.split('\n')[1]).toMatch(/^\S+@sha256:[0-9a-f]{64} {3}30 *$/);
      expect((await owner.fetch(`/v2/cli-prune/multi/manifests/${platform.manifest.digest}`, { method: 'HEAD' })).status).toBe(200);
      expect((await owner.fetch(`/v2/cli-keep/app/manifests/${elsewhere.manifest.digest}`, { method: 'HEAD' })).status).toBe(200);
      expect((await user.berthOk(['cr', 'image-prune-untagged', '--restrict', 'cli-prune'])).stdout).toBe("No untagged images in namespace 'cli-prune'.\n");

      // An untagged image comes back untagged.
      const ref = `${host}/cli-prune/app@${untagged[0]}`;
      expect((await user.berthOk(['cr', 'image-restore', ref])).stdout).toBe(`Restored '${ref}' (it had no tags).\nOK\n`);
      // Without --restrict, every namespace.
      expect((await user.berthOk(['cr', 'image-prune-untagged', '-f'])).stdout).toBe('Deleted 2 untagged images.\nOK\n');
      expect((await owner.fetch(`/v2/cli-keep/app/manifests/${elsewhere.manifest.digest}`, { method: 'HEAD' })).status).toBe(404);
    });

    it('prints each image the registry would not delete, and fails', async () => {
      const { manifest } = await owner.pushImage('cli-prune/app');
      // A Reader lists images but may not delete them.
      const sid = await server.berth.iam.serviceIds.create({ accountId, name: 'pruner', createdBy: 'test', apiKey: { name: 'k' } });
      await user.berthOk(['iam', 'service-policy-create', 'pruner', '--roles', 'Reader', '--service-name', 'container-registry', '--resource-type', 'namespace', '--resource', 'cli-prune']);
      const reader = await cliUser();
      await reader.berthOk(['login', '-a', server.url, '--apikey', sid.apiKey!.secret]);
      const result = await reader.berth(['cr', 'image-prune-untagged', '-f']);
      expect(oneLineError(result)).toBe('berth: 1 image could not be deleted');
      expect(result.stdout).toBe(
        `Deleted 0 untagged images.\nCould not delete '${host}/cli-prune/app@${manifest.digest}': You are not authorized to access the specified resource: container-registry.image.delete is not granted to you.\n`,
      );
      // Quotas and plans are the account's: a namespace role does not show them.
      expect(oneLineError(await reader.berth(['cr', 'quota']))).toMatch(/^berth: 403 from \/api\/v1\/quotas: .*container-registry\.quota\.get is not granted to you\.$/);
      expect(oneLineError(await reader.berth(['cr', 'plan']))).toMatch(/^berth: 403 from \/api\/v1\/plans: .*container-registry\.plan\.get is not granted to you\.$/);
    });
  });
});
