// The machine's ceiling for the blob transfers: node:http doing only the work a
// registry cannot skip (hash the body, write it, fsync it; stream a file back).
// PUT|POST /<anything> stores the body; GET /<same path> returns it;
// GET /static answers a small fixed body to check the load generator.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { dir: { type: "string" }, port: { type: "string" }, host: { type: "string", default: "127.0.0.1" } },
});
if (!values.dir || !values.port) throw new Error("usage: ceiling-server --dir DIR --port N [--host H]");
const dir = values.dir;

const BATCH = 1 << 20;
// Roughly the size of a small OCI manifest.
const STATIC = Buffer.from(JSON.stringify({ schemaVersion: 2, padding: "x".repeat(480) }));

function fileFor(url: string): string {
  // One flat file per path; the harness only sends safe names.
  return join(dir, encodeURIComponent(url.split("?")[0]!));
}

/**
 * Hash and write the body, gathering socket chunks into ~1 MiB writev calls with one write in
 * flight while the next batch is read: the cheapest way node has to land a stream on disk.
 */
async function store(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const hash = createHash("sha256");
  const fh = await open(fileFor(req.url ?? "/"), "w");
  try {
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let pending: Promise<unknown> = Promise.resolve();
    const flush = (): Promise<unknown> => {
      const chunks = batch;
      const previous = pending;
      batch = [];
      batchBytes = 0;
      pending = previous.then(() => fh.writev(chunks));
      return previous;
    };
    for await (const chunk of req as AsyncIterable<Buffer>) {
      hash.update(chunk);
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= BATCH) await flush();
    }
    await flush();
    await pending;
    await fh.sync();
  } finally {
    await fh.close();
  }
  res.writeHead(201, { "docker-content-digest": `sha256:${hash.digest("hex")}`, "content-length": "0" });
  res.end();
}

async function send(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.url === "/static" || req.url === "/v2/") {
    res.writeHead(200, { "content-type": "application/json", "content-length": String(STATIC.length) });
    res.end(req.method === "HEAD" ? undefined : STATIC);
    return;
  }
  const path = fileFor(req.url ?? "/");
  const info = await stat(path).catch(() => undefined);
  if (!info) {
    res.writeHead(404, { "content-length": "0" }).end();
    return;
  }
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(info.size) });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), res);
}

const server = createServer((req, res) => {
  const work = req.method === "PUT" || req.method === "POST" ? store(req, res) : send(req, res);
  work.catch((err: unknown) => {
    if (!res.headersSent) res.writeHead(500, { "content-length": "0" });
    res.end();
    console.error(err);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port), values.host);
process.on("SIGTERM", () => server.close(() => process.exit(0)));
