// The S3 mode's object store: a throwaway Ceph RGW (scripts/rgw.sh) in a mktemp folder under /tmp,
// stopped on exit, and what the harness itself does with it through the AWS SDK: the raw GET/PUT
// the registries are compared with, emptying a prefix between scenarios, and how full the
// memstore (RAM) is.
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, mkdtempSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { BlobFile } from "./blobs.js";
import { onCleanup } from "./cleanup.js";
import { assertLoopback } from "./http-client.js";

const run = promisify(execFile);
const REPO = join(import.meta.dirname, "..");
const RGW_SH = join(REPO, "scripts", "rgw.sh");
const READ_HWM = 1 << 20;

export interface Rgw {
  dir: string;
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** radosgw and ceph-osd (the memstore lives in the OSD's heap). */
  pids: { rgw: number; osd: number };
  s3: S3Client;
  stop(): void;
}

function readEnv(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** `bash scripts/rgw.sh start` into a fresh mktemp folder (short: Ceph's admin socket paths are limited). */
export async function startRgw(memstoreBytes: number): Promise<Rgw> {
  const dir = mkdtempSync("/tmp/berth-bench-rgw-");
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    try {
      execFileSync("bash", [RGW_SH, "stop", dir], { stdio: ["ignore", "ignore", "inherit"], timeout: 60_000 });
    } catch (err) {
      console.error(`[bench] rgw.sh stop ${dir} failed: ${err instanceof Error ? err.message : err}`);
    }
  };
  onCleanup(stop);
  try {
    await run("bash", [RGW_SH, "start", dir], {
      env: { ...process.env, BERTH_RGW_MEMSTORE_BYTES: String(memstoreBytes), BERTH_RGW_BUCKET: "berth-bench" },
      timeout: 180_000,
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new Error(`rgw.sh start failed: ${stderr.trim().split("\n").slice(-3).join(" | ") || String(err)}`);
  }
  const env = readEnv(join(dir, "env"));
  const endpoint = env.BERTH_TEST_S3_ENDPOINT!;
  assertLoopback(new URL(endpoint));
  const pid = (name: string): number => Number(readFileSync(join(dir, "run", `${name}.pid`), "utf8").trim());
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const rgw: Rgw = {
    dir,
    endpoint,
    bucket: env.BERTH_TEST_S3_BUCKET!,
    region: env.BERTH_TEST_S3_REGION ?? "us-east-1",
    accessKeyId: env.BERTH_TEST_S3_ACCESS_KEY_ID!,
    secretAccessKey: env.BERTH_TEST_S3_SECRET_ACCESS_KEY!,
    pids: { rgw: pid("rgw"), osd: pid("osd") },
    s3: undefined as unknown as S3Client,
    stop: () => {
      rgw.s3.destroy();
      stop();
    },
  };
  rgw.s3 = new S3Client({
    endpoint,
    region: rgw.region,
    forcePathStyle: true,
    credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
    // Ceph RGW 16 does not take the SDK's default (aws-chunked) checksums.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    requestHandler: { connectionTimeout: 5_000, httpAgent: { keepAlive: true, maxSockets: 64 } },
  });
  return rgw;
}

/** One command on a daemon's admin socket (what `ceph daemon` does, without starting Python). */
function adminSocket(path: string, command: object): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    const sock = connect(path);
    sock.setTimeout(10_000, () => sock.destroy(new Error(`${path}: no answer in 10s`)));
    sock.on("data", (d: Buffer) => parts.push(d));
    sock.on("error", reject);
    sock.on("end", () => {
      const reply = Buffer.concat(parts);
      if (reply.length < 4) return reject(new Error(`${path}: short reply`));
      resolve(reply.subarray(4, 4 + reply.readUInt32BE(0)).toString("utf8"));
    });
    sock.write(`${JSON.stringify(command)}\0`);
  });
}

/**
 * Bytes the memstore holds (the OSD's stat_bytes_used). The OSD refreshes it every few seconds, so
 * it lags the writes a little. (The OSD's RSS does not fall when objects go: glibc keeps the memory.)
 */
export async function memstoreUsed(rgw: Rgw): Promise<number> {
  const dump = await adminSocket(join(rgw.dir, "run", "osd.0.asok"), { prefix: "perf dump" });
  return (JSON.parse(dump) as { osd: { stat_bytes_used: number } }).osd.stat_bytes_used;
}

/** Every object and multipart upload under `prefix` deleted. */
export async function clearPrefix(rgw: Rgw, prefix: string): Promise<number> {
  let removed = 0;
  let token: string | undefined;
  do {
    const page = await rgw.s3.send(new ListObjectsV2Command({ Bucket: rgw.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
    if (keys.length > 0) {
      await rgw.s3.send(new DeleteObjectsCommand({ Bucket: rgw.bucket, Delete: { Objects: keys, Quiet: true } }));
      removed += keys.length;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  for (;;) {
    const page = await rgw.s3.send(new ListMultipartUploadsCommand({ Bucket: rgw.bucket, Prefix: prefix }));
    const uploads = page.Uploads ?? [];
    for (const u of uploads) {
      await rgw.s3.send(new AbortMultipartUploadCommand({ Bucket: rgw.bucket, Key: u.Key!, UploadId: u.UploadId! }));
      removed += 1;
    }
    if (!page.IsTruncated || uploads.length === 0) break;
  }
  return removed;
}

/**
 * Empty the bucket and give the memory back now: RGW queues deleted tails for its garbage
 * collector (30 s here); `gc process --include-all` runs it at once. Resolves with what is still used.
 */
export async function reclaim(rgw: Rgw, prefixes: string[]): Promise<number> {
  for (const p of prefixes) await clearPrefix(rgw, p);
  const conf = join(rgw.dir, "ceph.conf");
  // Its own admin socket: the default path is radosgw's, which is taken.
  const gc = (): Promise<unknown> =>
    run("radosgw-admin", ["-c", conf, "-n", "client.rgw.berth", "--admin-socket", join(rgw.dir, "run", "gc-admin.asok"), "gc", "process", "--include-all"], {
      timeout: 120_000,
    });
  await gc();
  let used = await memstoreUsed(rgw);
  // Deletes reach the OSD asynchronously; a few more rounds settle it.
  for (let i = 0; i < 10 && used > 64 << 20; i++) {
    await sleep(500);
    await gc();
    used = await memstoreUsed(rgw);
  }
  return used;
}

/** RGW's own GET of an object, hashed as the registry pulls are; fails unless it is the blob. */
export async function rawGet(rgw: Rgw, key: string, blob: BlobFile): Promise<void> {
  const object = await rgw.s3.send(new GetObjectCommand({ Bucket: rgw.bucket, Key: key }));
  const body = object.Body as Readable;
  const hash = createHash("sha256");
  let size = 0;
  await new Promise<void>((resolve, reject) => {
    body.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
    });
    body.on("end", resolve);
    body.on("error", reject);
  });
  const digest = `sha256:${hash.digest("hex")}`;
  if (size !== blob.size || digest !== blob.digest) throw new Error(`RGW GET ${key}: ${size} bytes ${digest}, expected ${blob.size} bytes ${blob.digest}`);
}

/** RGW's own single PUT of a file (no multipart), streamed from disk. */
export async function rawPut(rgw: Rgw, key: string, blob: BlobFile): Promise<void> {
  await rgw.s3.send(
    new PutObjectCommand({ Bucket: rgw.bucket, Key: key, Body: createReadStream(blob.path, { highWaterMark: READ_HWM }), ContentLength: blob.size }),
  );
}

/** Where Berth's S3 store keeps a blob. */
export function berthBlobKey(prefix: string, digest: string): string {
  const [algorithm, hex] = digest.split(":") as [string, string];
  return `${prefix}blobs/${algorithm}/${hex.slice(0, 2)}/${hex}`;
}
