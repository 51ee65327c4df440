// A small real image (config + one layer + OCI manifest) pushed under one or
// many tags, then read back under load: manifest GET/HEAD and tag listing.
import { randomBytes } from "node:crypto";
import { sha256 } from "./blobs.js";
import { startUpload } from "./blob-scenarios.js";
import type { RegistryClient } from "./http-client.js";
import { runLoad, type LoadResult, type LoadTool } from "./load.js";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const MAX_TAGS = 1000;

export interface PushedImage {
  manifest: Buffer;
  digest: string;
}

async function pushSmallBlob(client: RegistryClient, repo: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const url = client.url(await startUpload(client, repo));
  url.searchParams.set("digest", digest);
  const reply = await client.send("PUT", url.href, { headers: { "content-type": "application/octet-stream" }, body: data });
  if (reply.status !== 201) throw new Error(`PUT small blob: ${reply.status} ${reply.body.toString().slice(0, 300)}`);
  return digest;
}

/** Push one image and tag it with every name in tags (bounded to MAX_TAGS). */
export async function pushImage(client: RegistryClient, repo: string, tags: string[]): Promise<PushedImage> {
  const layer = randomBytes(64 << 10);
  const layerDigest = await pushSmallBlob(client, repo, layer);
  // The layer is an uncompressed "tar", so its diff_id is its own digest.
  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layerDigest] }, config: {} }),
  );
  const configDigest = await pushSmallBlob(client, repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layerDigest, size: layer.length }],
    }),
  );
  for (const tag of tags.slice(0, MAX_TAGS)) {
    const reply = await client.send("PUT", `/v2/${repo}/manifests/${tag}`, {
      headers: { "content-type": OCI_MANIFEST },
      body: manifest,
    });
    if (reply.status !== 201) throw new Error(`PUT manifest ${tag}: ${reply.status} ${reply.body.toString().slice(0, 300)}`);
  }
  return { manifest, digest: sha256(manifest) };
}

export interface ReadLoad {
  path: string;
  method: "GET" | "HEAD";
  accept?: string;
  concurrency: number;
  seconds: number;
  /** Checks one response before the timed run, so a fast stream of errors is never reported as speed. */
  check: (status: number, body: Buffer) => string | undefined;
}

export async function loadRead(client: RegistryClient, tool: LoadTool, spec: ReadLoad, scratchDir: string): Promise<LoadResult> {
  const headers: Record<string, string> = {};
  if (spec.accept) headers.accept = spec.accept;
  const first = await client.send(spec.method, spec.path, { headers });
  const problem = first.status === 200 ? spec.check(first.status, first.body) : `status ${first.status}`;
  if (problem) throw new Error(`${spec.method} ${spec.path}: ${problem} ${first.body.toString().slice(0, 200)}`);
  const authz = client.authorizationFor(spec.path);
  if (authz) headers.authorization = authz;
  const result = await runLoad(
    tool,
    { url: client.url(spec.path), method: spec.method, headers, concurrency: spec.concurrency, seconds: spec.seconds, expectStatus: 200 },
    scratchDir,
  );
  if (result.errors > 0) throw new Error(`${result.errors} failed requests (${result.requests} ok)`);
  return result;
}

/**
 * Closed-loop manifest PUTs: the pushed image's manifest again and again under one tag, the
 * whole write path each time (a registry cannot know it is the same until it has checked).
 */
export async function loadManifestPut(client: RegistryClient, tool: LoadTool, repo: string, image: PushedImage, concurrency: number, seconds: number): Promise<LoadResult> {
  const path = `/v2/${repo}/manifests/latest`;
  const headers: Record<string, string> = { "content-type": OCI_MANIFEST };
  const first = await client.send("PUT", path, { headers, body: image.manifest });
  if (first.status !== 201) throw new Error(`PUT ${path}: status ${first.status} ${first.body.toString().slice(0, 200)}`);
  const authz = client.authorizationFor(path);
  if (authz) headers.authorization = authz;
  const result = await runLoad(tool, { url: client.url(path), method: "PUT", headers, body: image.manifest, concurrency, seconds, expectStatus: 201 }, "");
  if (result.errors > 0) throw new Error(`${result.errors} failed requests (${result.requests} ok)`);
  return result;
}

export function manifestCheck(image: PushedImage): ReadLoad["check"] {
  return (_status, body) => (body.length === 0 || body.equals(image.manifest) ? undefined : "manifest body differs from what was pushed");
}

export function tagListCheck(expected: number): ReadLoad["check"] {
  return (_status, body) => {
    const tags = (JSON.parse(body.toString("utf8")) as { tags?: unknown[] }).tags ?? [];
    return tags.length >= expected ? undefined : `listed ${tags.length} tags, expected ${expected}`;
  };
}
