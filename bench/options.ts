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
}

const MiB = 1 << 20;

export const USAGE = `usage: npm run bench -- [--quick] [--only berth|distribution] [--json] [--load node|wrk]
  --quick   small sizes and short load runs (smoke test, ~1 minute)
  --only    run one registry (the ceiling server always runs)
  --json    also write bench/results.json
  --load    load generator: node (default, raw keep-alive sockets) or wrk (if installed; HEAD stays on node)
env: BERTH_CMD replaces "npx tsx src/cli/main.ts"; BERTH_BENCH_AUTH=user:secret for a registry that asks for auth`;

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      json: { type: "boolean", default: false },
      load: { type: "string" },
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
  };
}
