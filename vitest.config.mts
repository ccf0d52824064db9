import { defineConfig } from 'vitest/config';

// Integration tests open real sockets and child processes: forks isolate them, and the
// library under test (http-mitm-proxy) must stay external so our runtime patches hit the
// same module instance the proxy uses.
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    server: { deps: { external: [/node_modules/] } },
  },
});
