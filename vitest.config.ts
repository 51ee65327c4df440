import { defineConfig } from 'vitest/config';

/** Tests that need an S3 server run only in the test command's s3 pass (BERTH_TEST_STORAGE=s3). */
const S3_ONLY = ['test/unit/storage/s3-blob-store.test.ts', 'test/integration/s3-*.test.ts', 'test/integration/multi-node*.test.ts'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...(process.env.BERTH_TEST_STORAGE === 's3' ? [] : S3_ONLY)],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Real clients (skopeo, podman) and big fixtures share two cores: keep a little headroom.
    maxWorkers: 2,
  },
});
