import { defineConfig } from 'vitest/config';

// Integration tests open real sockets and child processes: forks isolate them, and the
// library under test (http-mitm-proxy) must stay external so our runtime patches hit the
// same module instance the proxy uses. The global setup builds dist/ once (when stale) and gives
// the run its own TMPDIR, checked for leftovers at the end.
export default defineConfig({
  test: {
    globalSetup: ['test/setup/global.ts'],
    pool: 'forks',
    // Most files spend their time waiting on sockets, timers and child processes (long-polls held
    // 35 s, a 100-second matrix-js-sdk session), not on the CPU: three files at a time on a 2-core
    // machine keep the suite short without starving the ones that measure time.
    maxWorkers: 3,
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    server: { deps: { external: [/node_modules/] } },
  },
});
