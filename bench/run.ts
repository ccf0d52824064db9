/**
 * `npm run bench`: leakwatch against mitmdump and a direct connection, measured interleaved in one
 * run (A B C, B C A, ...: the order rotates every round and load shape, so a noisy neighbour hits
 * every target alike), then medians and per-round paired ratios. See config.ts for the options.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseConfig, type BenchConfig } from './config.js';
import { runLoad } from './loadgen.js';
import { runNewHosts, type NewHostResult } from './newhost.js';
import { atCleanup, installCleanup, sleep, stopAll } from './proc.js';
import { buildReport, printReport, type RssResult } from './report.js';
import type { Sample } from './stats.js';
import { runStoreBench } from './store-bench.js';
import { cpuProfFlags, leakwatchTarget } from './target-leakwatch.js';
import { direct, hmp, mitmdump, startOrigin, type Running, type TargetEnv, type TargetSpec } from './targets.js';

const log = (s: string): void => void process.stderr.write(s + '\n');
/** Every measured request carries the user's e-mail and device id in its query, like a tracking
 *  beacon, so leakwatch's known-value scan finds two leaks per request (same URL for all targets). */
const BEACON = '?uid=alice@example.com&did=a1b2c3d4e5f60718&ev=page_view';
const rotate = <T>(a: readonly T[], k: number): T[] => a.map((_, i) => a[(i + k) % a.length] as T);

/** Never-seen names per target and round; one label under bench.test so the wildcard cert fits. */
const newNames = (cfg: BenchConfig, target: string, round: number): { seq: string[]; burst: string[] } => ({
  seq: Array.from({ length: cfg.newHostSeq }, (_, i) => `${target}-r${round}-s${i}.bench.test`),
  burst: Array.from({ length: cfg.newHostBurst }, (_, i) => `${target}-r${round}-b${i}.bench.test`),
});

async function rssPhase(spec: TargetSpec, env: TargetEnv, cfg: BenchConfig): Promise<RssResult> {
  log(`rss: fresh ${spec.name}, ${cfg.rssFirst} then up to ${cfg.rssTotal} small requests at c=50`);
  const run = await spec.start(env);
  try {
    const url = `https://h1.bench.test:${env.originPort}/small${BEACON}`;
    const checkpoints: Array<{ requests: number; rss_mb: number | null; rps: number; errors: number }> = [];
    let done = 0;
    const step = Math.max(cfg.rssFirst, Math.round(cfg.rssTotal / 4));
    while (done < cfg.rssTotal) {
      const n = done === 0 ? cfg.rssFirst : Math.min(step, cfg.rssTotal - done);
      const res = await runLoad({ url, proxy: run.proxy, ca: run.ca, c: 50, warmupMs: 0, durationMs: 0, requests: n, pid: run.pid });
      done += n;
      checkpoints.push({ requests: done, rss_mb: res.rssMb, rps: res.rps, errors: res.errors });
      log(`rss: ${done} requests -> ${res.rssMb} MB (${res.rps} req/s, ${res.errors} errors)`);
    }
    const extra = (await run.extra?.()) ?? {};
    return { target: spec.name, first: cfg.rssFirst, total: cfg.rssTotal, checkpoints, extra };
  } finally {
    await run.stop();
  }
}

async function main(): Promise<void> {
  const cfg = parseConfig(process.argv.slice(2));
  installCleanup();
  const t0 = Date.now();
  const tmp = mkdtempSync(join(tmpdir(), 'leakwatch-bench-'));
  atCleanup(() => rmSync(tmp, { recursive: true, force: true }));
  try {
    const { pki, originPort } = await startOrigin(tmp);
    const all: Record<string, TargetSpec> = {
      direct, mitmdump, hmp, leakwatch: leakwatchTarget(cfg.cpuProf ? cpuProfFlags() : []),
    };
    const envFor = (name: string): TargetEnv => ({
      tmp, pki, originPort,
      hosts: ['h1.bench.test', ...Array.from({ length: cfg.rounds }, (_, r) => newNames(cfg, name, r)).flatMap((n) => [...n.seq, ...n.burst])],
    });
    const running = new Map<string, Running>();
    const skipped: Record<string, string> = {};
    for (const name of cfg.targets) {
      const spec = all[name] as TargetSpec;
      const why = spec.unavailable();
      if (why) {
        skipped[name] = why;
        log(`skip ${name}: ${why}`);
        continue;
      }
      try {
        running.set(name, await spec.start(envFor(name)));
        log(`started ${name}`);
      } catch (err: unknown) {
        skipped[name] = String(err).slice(0, 800);
        log(`skip ${name}: ${String(err)}`);
      }
    }
    const names = [...running.keys()];
    const samples: Sample[] = [];
    const newHosts: Array<{ round: number; target: string; res: NewHostResult }> = [];
    for (let round = 0; round < cfg.rounds; round++) {
      for (const [j, { body, c }] of cfg.combos.entries()) {
        const combo = `${body}_c${c}`;
        for (const name of rotate(names, round + j)) {
          const run = running.get(name) as Running;
          const res = await runLoad({
            url: `https://h1.bench.test:${originPort}/${body}${BEACON}`, proxy: run.proxy, ca: run.ca, c,
            warmupMs: cfg.warmupMs, durationMs: cfg.windowMs, pid: run.pid,
          });
          samples.push({ round, combo, target: name, res });
          log(`round ${round + 1}/${cfg.rounds} ${combo} ${name}: ${res.rps} req/s p50 ${res.p50} p99 ${res.p99} ms` +
            ` cpu ${res.proxyCpuUsPerReq ?? '-'} µs/req${res.errors ? ` ERRORS ${res.errors}: ${res.firstError}` : ''}`);
          await sleep(100);
        }
      }
      for (const name of rotate(names, round)) {
        const run = running.get(name) as Running;
        const n = newNames(cfg, name, round);
        const res = await runNewHosts(run.proxy, run.ca, originPort, n.seq, n.burst);
        newHosts.push({ round, target: name, res });
        log(`round ${round + 1}/${cfg.rounds} new hosts ${name}: p50 ${res.seqP50} ms, burst of ${res.burstN} ${res.burstWallMs} ms` +
          `${res.errors ? ` ERRORS ${res.errors}: ${res.firstError}` : ''}`);
      }
    }
    const extras: Record<string, Record<string, unknown>> = {};
    for (const [name, run] of running) extras[name] = (await run.extra?.()) ?? {};
    for (const run of running.values()) await run.stop();

    const rss = running.has('leakwatch')
      ? await rssPhase(all.leakwatch as TargetSpec, envFor('leakwatch'), cfg).catch((err: unknown) => {
          log(`rss phase failed: ${String(err)}`);
          return null;
        })
      : null;
    log(`store: ingest + summary over ${cfg.storeFindings} synthetic findings`);
    const store = await runStoreBench(tmp, cfg.storeFindings);
    const hostMapping = Object.fromEntries(cfg.targets.map((n) => [n, (all[n] as TargetSpec).hostMapping]));
    const report = buildReport({ cfg, samples, newHosts, rss, store, skipped, extras, hostMapping, seconds: (Date.now() - t0) / 1e3 });
    mkdirSync(dirname(cfg.out), { recursive: true });
    writeFileSync(cfg.out, JSON.stringify(report, null, 2) + '\n');
    printReport(report);
    log(`wrote ${cfg.out} (${Math.round((Date.now() - t0) / 1000)} s)`);
  } finally {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  void stopAll().finally(() => process.exit(1));
});
