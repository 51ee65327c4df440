// A real client's push and pull: skopeo copy of a one-layer OCI image between a local OCI layout
// and a registry. The layer is random bytes in a gzip stream (stored blocks, so it is as big as
// the bytes and costs no CPU to make): skopeo sees gzip and sends it as it is, rather than
// compressing an uncompressed layer on the way, which would time gzip, not the registry.
import { execFile, execFileSync } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { createWriteStream, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { promisify } from "node:util";
import { createGzip } from "node:zlib";
import type { Credentials } from "./auth.js";

const run = promisify(execFile);
const SKOPEO = "/usr/bin/skopeo";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

export interface OciLayout {
  dir: string;
  /** Bytes moved by a copy: the layer (the config and manifest are a few hundred bytes). */
  layerBytes: number;
}

export function skopeoAvailable(): boolean {
  try {
    execFileSync(SKOPEO, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function writeBlob(dir: string, data: Buffer | string): { digest: string; size: number } {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const hex = createHash("sha256").update(buf).digest("hex");
  writeFileSync(join(dir, "blobs", "sha256", hex), buf);
  return { digest: `sha256:${hex}`, size: buf.length };
}

/** An OCI image layout at `dir` with one `rawBytes` random layer, tagged `latest`. */
export async function makeOciLayout(dir: string, rawBytes: number): Promise<OciLayout> {
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  const tmp = join(dir, "layer.tmp");
  const diff = createHash("sha256");
  const layer = createHash("sha256");
  const gzip = createGzip({ level: 0 });
  const out = createWriteStream(tmp);
  gzip.on("data", (chunk: Buffer) => layer.update(chunk));
  gzip.pipe(out);
  const buf = Buffer.allocUnsafe(4 << 20);
  for (let written = 0; written < rawBytes; ) {
    const n = Math.min(buf.length, rawBytes - written);
    const part = Buffer.from(randomFillSync(buf.subarray(0, n)));
    diff.update(part);
    if (!gzip.write(part)) await new Promise((r) => gzip.once("drain", r));
    written += n;
  }
  gzip.end();
  await finished(out);
  const layerHex = layer.digest("hex");
  renameSync(tmp, join(dir, "blobs", "sha256", layerHex));
  const layerSize = statSync(join(dir, "blobs", "sha256", layerHex)).size;
  const config = writeBlob(
    dir,
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: {},
      rootfs: { type: "layers", diff_ids: [`sha256:${diff.digest("hex")}`] },
    }),
  );
  const manifest = writeBlob(
    dir,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${layerHex}`, size: layerSize }],
    }),
  );
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: OCI_MANIFEST, ...manifest, annotations: { "org.opencontainers.image.ref.name": "latest" } }],
    }),
  );
  return { dir, layerBytes: layerSize };
}

function registryRef(baseUrl: string, repo: string): string {
  return `docker://${new URL(baseUrl).host}/${repo}:latest`;
}

async function skopeo(args: string[]): Promise<number> {
  const t0 = performance.now();
  try {
    await run(SKOPEO, ["--insecure-policy", ...args], { timeout: 600_000, maxBuffer: 16 << 20 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? "";
    throw new Error(`skopeo ${args[0]}: ${stderr.trim().split("\n").slice(-2).join(" | ") || String(err)}`);
  }
  return (performance.now() - t0) / 1000;
}

/** Seconds for `skopeo copy oci:<layout> docker://<registry>/<repo>:latest`. */
export function skopeoPush(layout: OciLayout, baseUrl: string, repo: string, creds?: Credentials): Promise<number> {
  const auth = creds ? ["--dest-creds", `${creds.user}:${creds.secret}`] : [];
  return skopeo(["copy", "--quiet", "--dest-tls-verify=false", ...auth, `oci:${layout.dir}:latest`, registryRef(baseUrl, repo)]);
}

/** Seconds for `skopeo copy docker://… dir:<out>` (blob GETs follow the registry's redirects). */
export async function skopeoPull(baseUrl: string, repo: string, out: string, creds?: Credentials): Promise<number> {
  rmSync(out, { recursive: true, force: true });
  const auth = creds ? ["--src-creds", `${creds.user}:${creds.secret}`] : [];
  try {
    return await skopeo(["copy", "--quiet", "--src-tls-verify=false", ...auth, registryRef(baseUrl, repo), `dir:${out}`]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
