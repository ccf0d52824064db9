/**
 * latest.json: medians per target and load shape, per-round paired ratios, the headline keys
 * (bench/README.md), and each target checked. Small counts (quick/smoke) keep the headline
 * key names but say how many requests/findings they really cover, next to the figure.
 */
import { cpus, loadavg } from 'node:os';
import type { BenchConfig } from './config.js';
import type { NewHostResult } from './newhost.js';
import { addedP50, addedP99, cpuRatio, median, paired, r, rpsRatio, summarise, type Sample } from './stats.js';
import type { StoreBenchResult } from './store-bench.js';

export interface RssResult {
  target: string;
  first: number;
  total: number;
  checkpoints: Array<{ requests: number; rss_mb: number | null; rps: number; errors: number }>;
  extra: Record<string, unknown>;
}

export interface ReportInput {
  cfg: BenchConfig;
  samples: Sample[];
  newHosts: Array<{ round: number; target: string; res: NewHostResult }>;
  rss: RssResult | null;
  store: StoreBenchResult;
  skipped: Record<string, string>;
  extras: Record<string, Record<string, unknown>>;
  hostMapping: Record<string, string>;
  seconds: number;
}

export interface Check {
  what: string;
  value: number | null;
  limit: string;
  ok: boolean | null;
}

export type Report = ReturnType<typeof buildReport>;

const COMBOS = ['small_c50', 'big_c50', 'small_c1', 'big_c1'];

export function buildReport(i: ReportInput) {
  const { cfg, samples } = i;
  const names = [...new Set(samples.map((s) => s.target))];
  const targets: Record<string, Record<string, unknown>> = {};
  for (const t of names) {
    const nh = i.newHosts.filter((n) => n.target === t).map((n) => n.res);
    const rss = samples.filter((s) => s.target === t).map((s) => s.res.rssMb).filter((x): x is number => x !== null);
    targets[t] = {
      ...Object.fromEntries(COMBOS.map((c) => [c, summarise(samples, c, t)])),
      new_host_ms_p50: r(median(nh.flatMap((n) => n.seqMs)), 2),
      new_host_burst20_ms: r(median(nh.map((n) => n.burstWallMs)), 1),
      new_host_burst_slowest_ms: r(median(nh.map((n) => n.burstSlowestMs)), 1),
      new_host_errors: nh.reduce((s, n) => s + n.errors, 0),
      rss_mb_max: rss.length ? Math.max(...rss) : null,
      ...(i.extras[t] && Object.keys(i.extras[t]).length ? { extra: i.extras[t] } : {}),
    };
  }
  const proxies = names.filter((n) => n !== 'direct');
  const byCombo: Record<string, Record<string, number | null>> = {};
  for (const c of COMBOS) {
    const row: Record<string, number | null> = {};
    for (const a of proxies) {
      row[`${a}_vs_direct_rps`] = r(paired(samples, c, a, 'direct', rpsRatio), 3);
      row[`${a}_added_p50_ms`] = r(paired(samples, c, a, 'direct', addedP50), 3);
      row[`${a}_added_p99_ms`] = r(paired(samples, c, a, 'direct', addedP99), 3);
      for (const b of proxies.filter((x) => x !== a && a === 'leakwatch')) {
        row[`${a}_vs_${b}_rps`] = r(paired(samples, c, a, b, rpsRatio), 3);
        row[`${a}_vs_${b}_cpu_per_req`] = r(paired(samples, c, a, b, cpuRatio), 3);
      }
    }
    byCombo[c] = row;
  }
  const k = (c: string, key: string): number | null => byCombo[c]?.[key] ?? null;
  const lw = targets.leakwatch as Record<string, number | null> | undefined;
  const last = i.rss?.checkpoints.at(-1);
  const firstCp = i.rss?.checkpoints[0];
  const rssFirst = firstCp?.rss_mb ?? null;
  const rssTotal = last?.rss_mb ?? null;
  const report = {
    mode: cfg.mode,
    date: new Date().toISOString(),
    seconds: Math.round(i.seconds),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? null, node: process.version, loadavg_at_end: loadavg().map((x) => r(x, 2)) },
    config: {
      rounds: cfg.rounds, warmup_ms: cfg.warmupMs, window_ms: cfg.windowMs, new_host_seq: cfg.newHostSeq,
      new_host_burst: cfg.newHostBurst, rss_requests_first: cfg.rssFirst, rss_requests_total: cfg.rssTotal,
      store_findings: i.store.findings, targets: cfg.targets,
    },
    host_mapping: i.hostMapping,
    skipped: i.skipped,
    targets,
    ratios: {
      leakwatch_vs_mitmdump_rps: k('small_c50', 'leakwatch_vs_mitmdump_rps'),
      leakwatch_vs_direct_rps: k('small_c50', 'leakwatch_vs_direct_rps'),
      leakwatch_vs_mitmdump_cpu_per_req: k('small_c50', 'leakwatch_vs_mitmdump_cpu_per_req'),
      leakwatch_vs_mitmdump_rps_big: k('big_c50', 'leakwatch_vs_mitmdump_rps'),
      leakwatch_vs_direct_rps_big: k('big_c50', 'leakwatch_vs_direct_rps'),
      leakwatch_vs_mitmdump_cpu_per_req_big: k('big_c50', 'leakwatch_vs_mitmdump_cpu_per_req'),
      leakwatch_added_p50_ms_c1: k('small_c1', 'leakwatch_added_p50_ms'),
      leakwatch_added_p99_ms_c1: k('small_c1', 'leakwatch_added_p99_ms'),
      leakwatch_added_p50_ms_c1_big: k('big_c1', 'leakwatch_added_p50_ms'),
      leakwatch_added_p99_ms_c1_big: k('big_c1', 'leakwatch_added_p99_ms'),
      by_combo: byCombo,
      note: 'paired per round (same round and load shape), then the median over rounds; headline keys are small body at 50 connections',
    },
    new_host_ms_p50: lw?.new_host_ms_p50 ?? null,
    new_host_burst20_ms: lw?.new_host_burst20_ms ?? null,
    rss_mb_after_10k: rssFirst,
    rss_mb_after_200k: rssTotal,
    rss_requests: { first: firstCp?.requests ?? null, total: last?.requests ?? null,
      note: cfg.rssTotal === 200_000 ? null : `${cfg.mode} mode: "after_10k"/"after_200k" are after ${cfg.rssFirst} / ${cfg.rssTotal} requests` },
    rss_detail: i.rss,
    summary_query_ms_1m: i.store.summary_query_ms,
    store_ingest_rows_per_s: i.store.ingest_total_rows_per_s,
    store_ingest_exchanges_per_s: i.store.ingest_rows_per_s,
    store: { ...i.store, label: i.store.findings >= 1_000_000 ? null : `${cfg.mode} mode: ${i.store.findings} findings, not 1M` },
    checks: [] as Check[],
  };
  const chk = (what: string, value: number | null, limit: string, ok: (v: number) => boolean): Check =>
    ({ what, value, limit, ok: value === null ? null : ok(value) });
  report.checks = [
    chk('req/s vs mitmdump, small c50', report.ratios.leakwatch_vs_mitmdump_rps, '>= 5', (v) => v >= 5),
    chk('req/s vs mitmdump, big c50', report.ratios.leakwatch_vs_mitmdump_rps_big, '>= 5', (v) => v >= 5),
    chk('CPU/req vs mitmdump, small', report.ratios.leakwatch_vs_mitmdump_cpu_per_req, '<= 0.25', (v) => v <= 0.25),
    chk('CPU/req vs mitmdump, big', report.ratios.leakwatch_vs_mitmdump_cpu_per_req_big, '<= 0.25', (v) => v <= 0.25),
    chk('added p50 at c1, small (ms)', report.ratios.leakwatch_added_p50_ms_c1, '<= 0.5', (v) => v <= 0.5),
    chk('added p99 at c1, small (ms)', report.ratios.leakwatch_added_p99_ms_c1, '<= 2', (v) => v <= 2),
    chk('added p50 at c1, big (ms)', report.ratios.leakwatch_added_p50_ms_c1_big, '<= 0.5', (v) => v <= 0.5),
    chk('added p99 at c1, big (ms)', report.ratios.leakwatch_added_p99_ms_c1_big, '<= 2', (v) => v <= 2),
    chk('new host p50 (ms)', report.new_host_ms_p50, '<= 20', (v) => v <= 20),
    chk('burst of 20 new hosts (ms)', report.new_host_burst20_ms, '<= 300', (v) => v <= 300),
    chk(`RSS growth ${cfg.rssFirst}->${cfg.rssTotal} req (MB)`, rssFirst !== null && rssTotal !== null ? r(rssTotal - rssFirst, 1) : null, '<= 50', (v) => v <= 50),
    chk(`summary query, ${i.store.findings} findings (ms)`, i.store.summary_query_ms, '<= 100', (v) => v <= 100),
    // "ingest >= 50k rows/s": every row the writer adds counts (an exchange row + its 3 finding rows);
    // the stricter per-exchange reading is checked too, so neither hides the other.
    chk('store ingest, rows/s (exchange + finding rows)', i.store.ingest_total_rows_per_s, '>= 50000', (v) => v >= 50_000),
    chk('store ingest, exchanges/s (3 findings each)', i.store.ingest_rows_per_s, '>= 50000', (v) => v >= 50_000),
  ];
  return report;
}

export { printReport } from './table.js';
