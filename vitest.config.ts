import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Real clients (skopeo, podman) and big fixtures share two cores: keep a little headroom.
    maxWorkers: 2,
  },
});
