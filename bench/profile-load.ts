/**
 * One load shape against one target, for profiling (not part of `npm run bench`):
 *   node dist/bench/profile-load.js [--target leakwatch|hmp] [--body small|big] [--c 50] [--seconds 8] [--prof]
 * With --prof the proxy runs under `node --cpu-prof` and the profile lands in bench/results/prof/
 * when it stops; summarise it with `node dist/bench/profile-top.js FILE`. Prints req/s and the
 * proxy's CPU µs per request (from /proc, like the bench), so a change can be checked in seconds.
 * To find what a stage costs, switch parts of the leakwatch target off with environment variables:
 * LW_BENCH_NO_IDENTITY=1 (no --identity, so no findings), LW_BENCH_NO_WS=1 (no dashboard stream
 * client), LW_BENCH_ARGS='--store-bodies none' (extra start flags). The bench itself never sets them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad } from './loadgen.js';
import { installCleanup, stopAll } from './proc.js';
import { cpuProfFlags, leakwatchTarget } from './target-leakwatch.js';
import { hmp, startOrigin } from './targets.js';

const BEACON = '?uid=alice@example.com&did=a1b2c3d4e5f60718&ev=page_view';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string', default: 'leakwatch' }, body: { type: 'string', default: 'small' },
      c: { type: 'string', default: '50' }, seconds: { type: 'string', default: '8' }, prof: { type: 'boolean' },
      requests: { type: 'string' }, checkpoints: { type: 'string' },
    },
  });
  installCleanup();
  const tmp = mkdtempSync(join(tmpdir(), 'leakwatch-prof-'));
  try {
    const { pki, originPort } = await startOrigin(tmp);
    const spec = values.target === 'hmp' ? hmp : leakwatchTarget(values.prof ? cpuProfFlags() : []);
    const run = await spec.start({ tmp, pki, originPort, hosts: ['h1.bench.test'] });
    const url = `https://h1.bench.test:${originPort}/${values.body}${BEACON}`;
    const c = Number(values.c);
    // --checkpoints 10000,50000,200000: RSS after each cumulative request count (the bench's memory phase).
    let done = 0;
    for (const total of (values.checkpoints ?? '').split(',').filter(Boolean).map(Number)) {
      const r = await runLoad({ url, proxy: run.proxy, ca: run.ca, c, warmupMs: 0, durationMs: 0, requests: total - done, pid: run.pid });
      done = total;
      process.stdout.write(`${done} requests: rss ${r.rssMb} MB (${r.rps} req/s, ${r.errors} errors)\n`);
    }
    const res = await runLoad({
      url, proxy: run.proxy, ca: run.ca, c, warmupMs: 1000, durationMs: Number(values.seconds) * 1000, pid: run.pid,
      ...(values.requests ? { requests: Number(values.requests), durationMs: 0, warmupMs: 0 } : {}),
    });
    process.stdout.write(`${values.target} ${values.body} c${c}: ${res.rps} req/s p50 ${res.p50} p99 ${res.p99} ms, ` +
      `cpu ${res.proxyCpuUsPerReq} µs/req, rss ${res.rssMb} MB, errors ${res.errors}\n`);
    const extra = await run.extra?.();
    if (extra) process.stdout.write(JSON.stringify(extra) + '\n');
    await run.stop();
  } finally {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`profile-load failed: ${String(err)}\n`);
  void stopAll().finally(() => process.exit(1));
});
