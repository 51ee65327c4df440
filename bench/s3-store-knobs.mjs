// Bench-only: preloaded into the compiled Berth (node --import) by `npm run bench -- --s3` when
// BERTH_BENCH_S3_PART_MIB or BERTH_BENCH_S3_PARTS_IN_FLIGHT is set, to try S3BlobStore options
// that Berth has no setting for (part size, parts sent at once per request). Berth unchanged
// otherwise; a plain .mjs so that no TypeScript loader runs inside the measured server.
const partMiB = Number(process.env.BERTH_BENCH_S3_PART_MIB || 0);
const partsInFlight = Number(process.env.BERTH_BENCH_S3_PARTS_IN_FLIGHT || 0);
const { S3BlobStore } = await import(new URL("../dist/storage/s3-blob-store.js", import.meta.url).href);
const open = S3BlobStore.open;
S3BlobStore.open = function (settings, options = {}) {
  const knobs = {};
  if (partMiB > 0) knobs.partBytes = partMiB * 1024 * 1024;
  if (partsInFlight > 0) knobs.partsInFlight = partsInFlight;
  const effective = { ...knobs, ...options };
  // Goes to Berth's log, where the harness checks that the knobs took.
  console.error(`[bench-knobs] S3BlobStore.open with ${JSON.stringify(effective)}`);
  return open.call(this, settings, effective);
};
