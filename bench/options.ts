// Command-line flags and the sizes each mode uses.
import { parseArgs } from "node:util";
import type { LoadTool } from "./load.js";

export interface Options {
  quick: boolean;
  only: "berth" | "distribution" | undefined;
  json: boolean;
  load: LoadTool | undefined;
  blobCount: number;
  blobBytes: number;
  chunkBytes: number;
  bigLayerBytes: number;
  loadSeconds: number;
  concurrency: number;
  tagCount: number;
  /** Berth's --workers in the filesystem scenarios: `auto` (one per core, as Distribution uses every core) or a number. */
  workers: string;
  /** --s3: the object-store section alone (its own RGW), instead of the filesystem scenarios. */
  s3: S3Sizes | undefined;
}

export interface S3Sizes {
  /** The RGW's memstore (RAM) capacity; what is stored at once stays below it by `headroomBytes`. */
  memstoreBytes: number;
  headroomBytes: number;
  layerBytes: number;
  layerCount: number;
  chunkBytes: number;
  concurrentPushes: number;
  concurrentBytes: number;
}

const MiB = 1 << 20;

export const USAGE = `usage: npm run bench -- [--quick] [--only berth|distribution] [--workers N|auto] [--json] [--load node|wrk] [--s3 [--s3-memstore-mib N]]
  --quick   small sizes and short load runs (smoke test, ~1 minute)
  --s3      S3 mode instead of the filesystem scenarios: starts a Ceph RGW (scripts/rgw.sh) and runs
            Berth (BERTH_STORAGE=s3) and Distribution (s3 driver) on it, with RGW's own GET/PUT as the ceiling
  --s3-memstore-mib  RGW memstore size (default 3072); Distribution's concurrent-push RSS run is
            shrunk to fit, since its commit copies every byte once more inside the store
  --only    run one registry (the ceiling server always runs)
  --workers Berth's server processes in the filesystem scenarios (default auto: one per core, as
            Distribution's Go runtime uses every core); the S3 mode runs one
  --json    also write bench/results.json
  --load    load generator: node (default, raw keep-alive sockets) or wrk (if installed; HEAD stays on node)
env: BERTH_CMD replaces "node bin/berth.js"; BERTH_BENCH_AUTH=user:secret for a registry that asks for auth`;

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      workers: { type: "string", default: "auto" },
      json: { type: "boolean", default: false },
      load: { type: "string" },
      s3: { type: "boolean", default: false },
      "s3-memstore-mib": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.only !== undefined && values.only !== "berth" && values.only !== "distribution") {
    throw new Error(`--only must be berth or distribution\n${USAGE}`);
  }
  if (values.load !== undefined && values.load !== "node" && values.load !== "wrk") {
    throw new Error(`--load must be node or wrk\n${USAGE}`);
  }
  const quick = values.quick ?? false;
  const memstoreMiB = values["s3-memstore-mib"] === undefined ? 3072 : Number(values["s3-memstore-mib"]);
  if (!Number.isInteger(memstoreMiB) || memstoreMiB < 1024) throw new Error(`--s3-memstore-mib must be a whole number ≥ 1024\n${USAGE}`);
  if (values["s3-memstore-mib"] !== undefined && !values.s3) throw new Error(`--s3-memstore-mib needs --s3\n${USAGE}`);
  return {
    quick,
    only: values.only,
    json: values.json ?? false,
    load: values.load,
    blobCount: 3,
    blobBytes: (quick ? 16 : 256) * MiB,
    chunkBytes: 8 * MiB,
    bigLayerBytes: (quick ? 64 : 1024) * MiB,
    loadSeconds: quick ? 1 : 5,
    concurrency: 16,
    tagCount: quick ? 20 : 100,
    workers: values.workers!,
    s3: values.s3
      ? {
          memstoreBytes: memstoreMiB * MiB,
          headroomBytes: 768 * MiB,
          layerBytes: (quick ? 16 : 100) * MiB,
          layerCount: quick ? 1 : 3,
          chunkBytes: 8 * MiB,
          concurrentPushes: 8,
          concurrentBytes: (quick ? 32 : 256) * MiB,
        }
      : undefined,
  };
}
