// Blob push (monolithic and chunked) and pull, timed per byte moved. The same
// scenario functions drive a registry (OCI upload protocol) or the ceiling
// server (one plain PUT / GET per blob).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { IncomingMessage } from "node:http";
import type { BlobFile } from "./blobs.js";
import type { RegistryClient, Reply } from "./http-client.js";

const READ_HWM = 1 << 20; // 1 MiB reads: fewer syscalls and pipe hops than the 64 KiB default

export interface Transfer {
  mibPerSec: number;
  bytes: number;
  seconds: number;
  perBlobSeconds: number[];
}

function expect(reply: Reply, status: number, what: string): Reply {
  if (reply.status !== status) {
    const body = reply.body.toString("utf8").slice(0, 300);
    throw new Error(`${what}: expected ${status}, got ${reply.status} ${body}`);
  }
  return reply;
}

function location(reply: Reply, what: string): string {
  const loc = reply.headers.location;
  if (!loc) throw new Error(`${what}: no Location header`);
  return loc;
}

export async function startUpload(client: RegistryClient, repo: string): Promise<string> {
  const reply = await client.send("POST", `/v2/${repo}/blobs/uploads/`);
  return location(expect(reply, 202, "POST upload"), "POST upload");
}

function withDigest(client: RegistryClient, loc: string, digest: string): string {
  const url = client.url(loc);
  url.searchParams.set("digest", digest);
  return url.href;
}

function checkDigestHeader(reply: Reply, digest: string): void {
  const got = reply.headers["docker-content-digest"];
  if (got && got !== digest) throw new Error(`server stored ${got}, expected ${digest}`);
}

export async function pushMonolithic(client: RegistryClient, repo: string, blob: BlobFile): Promise<void> {
  const loc = await startUpload(client, repo);
  const reply = await client.send("PUT", withDigest(client, loc, blob.digest), {
    headers: { "content-type": "application/octet-stream", "content-length": String(blob.size) },
    body: () => createReadStream(blob.path, { highWaterMark: READ_HWM }),
  });
  checkDigestHeader(expect(reply, 201, "PUT blob"), blob.digest);
}

export async function pushChunked(client: RegistryClient, repo: string, blob: BlobFile, chunkSize: number): Promise<void> {
  let loc = await startUpload(client, repo);
  const chunks = Math.ceil(blob.size / chunkSize);
  for (let i = 0; i < chunks; i++) {
    const start = i * chunkSize;
    const end = Math.min(blob.size, start + chunkSize) - 1; // Content-Range is inclusive
    const reply = await client.send("PATCH", loc, {
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(end - start + 1),
        "content-range": `${start}-${end}`,
      },
      body: () => createReadStream(blob.path, { start, end, highWaterMark: READ_HWM }),
    });
    loc = location(expect(reply, 202, `PATCH chunk ${i}`), `PATCH chunk ${i}`);
  }
  const reply = await client.send("PUT", withDigest(client, loc, blob.digest), {
    headers: { "content-length": "0" },
  });
  checkDigestHeader(expect(reply, 201, "PUT close upload"), blob.digest);
}

/** GET a blob, hashing while reading; fails unless size and digest match. */
export async function pull(client: RegistryClient, target: string, blob: BlobFile): Promise<void> {
  let size = 0;
  let digest = "";
  // 'data' events rather than for-await: ~15% faster, and the client's hashing is what caps pulls here.
  const sink = (res: IncomingMessage): Promise<void> =>
    new Promise((resolve, reject) => {
      const hash = createHash("sha256");
      res.on("data", (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
      });
      res.on("end", () => {
        digest = `sha256:${hash.digest("hex")}`;
        resolve();
      });
      res.on("error", reject);
    });
  let reply = await client.send("GET", target, { sink });
  // A registry backed by an object store may redirect; follow a few loopback hops only.
  for (let hop = 0; hop < 3 && reply.status >= 300 && reply.status < 400; hop++) {
    reply = await client.send("GET", location(reply, "GET blob redirect"), { sink });
  }
  expect(reply, 200, "GET blob");
  if (size !== blob.size || digest !== blob.digest) {
    throw new Error(`pulled ${size} bytes ${digest}, expected ${blob.size} bytes ${blob.digest}`);
  }
}

/** Ceiling server: the bare transfer with no protocol around it. */
export async function ceilingPut(client: RegistryClient, blob: BlobFile): Promise<void> {
  const reply = await client.send("PUT", `/blobs/${blob.digest.slice(7)}`, {
    headers: { "content-type": "application/octet-stream", "content-length": String(blob.size) },
    body: () => createReadStream(blob.path, { highWaterMark: READ_HWM }),
  });
  checkDigestHeader(expect(reply, 201, "ceiling PUT"), blob.digest);
}

export function ceilingPull(client: RegistryClient, blob: BlobFile): Promise<void> {
  return pull(client, `/blobs/${blob.digest.slice(7)}`, blob);
}

/**
 * Move every blob through every runner, interleaved (blob 1 to each server, then blob 2 …)
 * so that drift in disk or CPU speed over the run does not favour one server.
 * A runner that fails once is dropped and reported as that error.
 */
export async function timeInterleaved<K extends string>(
  blobs: BlobFile[],
  runners: Partial<Record<K, (blob: BlobFile) => Promise<void>>>,
  /** Start each blob's round with the next runner, so that none always goes first. */
  rotate = false,
): Promise<Partial<Record<K, Transfer | Error>>> {
  const seconds = new Map<K, number[]>();
  const failed = new Map<K, Error>();
  const names = Object.keys(runners) as K[];
  for (const [i, blob] of blobs.entries()) {
    const shift = rotate ? i % names.length : 0;
    for (const name of [...names.slice(shift), ...names.slice(0, shift)]) {
      if (failed.has(name)) continue;
      const t0 = performance.now();
      try {
        await runners[name]!(blob);
      } catch (err) {
        failed.set(name, err instanceof Error ? err : new Error(String(err)));
        continue;
      }
      seconds.set(name, [...(seconds.get(name) ?? []), (performance.now() - t0) / 1000]);
    }
  }
  const out: Partial<Record<K, Transfer | Error>> = {};
  for (const name of names) {
    const perBlobSeconds = seconds.get(name) ?? [];
    const bytes = blobs.reduce((a, b) => a + b.size, 0);
    const total = perBlobSeconds.reduce((a, b) => a + b, 0);
    out[name] = failed.get(name) ?? { mibPerSec: bytes / (1 << 20) / total, bytes, seconds: total, perBlobSeconds };
  }
  return out;
}
