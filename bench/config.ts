/**
 * Command line and the three sizes of run. `--quick` must stay under a minute on a 2-core box and
 * `--smoke` (the CI test) around 20-30 s: fewer rounds, shorter windows, smaller counts, each
 * labelled in the output so a small count is never mistaken for the full figure.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchDir } from './targets.js';

export interface BenchConfig {
  readonly mode: 'full' | 'quick' | 'smoke';
  readonly rounds: number;
  readonly warmupMs: number;
  readonly windowMs: number;
  /** Load shapes measured every round: body x concurrency. */
  readonly combos: ReadonlyArray<{ readonly body: 'small' | 'big'; readonly c: number }>;
  readonly newHostSeq: number;
  readonly newHostBurst: number;
  /** RSS of a fresh leakwatch after `rssFirst` and after `rssTotal` requests. */
  readonly rssFirst: number;
  readonly rssTotal: number;
  readonly storeFindings: number;
  readonly targets: readonly string[];
  readonly cpuProf: boolean;
  readonly out: string;
}

const USAGE = `usage: npm run bench -- [--quick | --smoke] [--rounds N] [--window S] [--warmup S]
  [--targets direct,leakwatch,mitmdump[,hmp]] [--with-hmp] [--cpu-prof] [--out FILE]
  --quick     < 1 min: 1 round, 0.8 s windows, RSS 2k->5k requests, store 20k findings
  --smoke     ~25 s: what CI runs to keep the bench working (never judges speed)
  --with-hmp  also measure bare http-mitm-proxy (keepAlive), the library leakwatch builds on
  --cpu-prof  write leakwatch CPU profiles to bench/results/prof/ (open in Chrome DevTools)`;

export const resultsDir = join(benchDir, '..', '..', 'bench', 'results');

export function parseConfig(argv: readonly string[]): BenchConfig {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean' }, smoke: { type: 'boolean' }, rounds: { type: 'string' },
      window: { type: 'string' }, warmup: { type: 'string' }, targets: { type: 'string' },
      'with-hmp': { type: 'boolean' }, 'cpu-prof': { type: 'boolean' }, out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const mode = values.smoke ? 'smoke' : values.quick ? 'quick' : 'full';
  const base = {
    full: { rounds: 5, warmupMs: 2000, windowMs: 6000, newHostSeq: 10, rssFirst: 10_000, rssTotal: 200_000, storeFindings: 1_000_000 },
    quick: { rounds: 1, warmupMs: 250, windowMs: 800, newHostSeq: 5, rssFirst: 2_000, rssTotal: 5_000, storeFindings: 20_000 },
    smoke: { rounds: 1, warmupMs: 200, windowMs: 500, newHostSeq: 3, rssFirst: 1_000, rssTotal: 3_000, storeFindings: 6_000 },
  }[mode];
  const num = (v: string | undefined, fallback: number, scale = 1): number => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`bad number "${v}"\n${USAGE}`);
    return Math.round(n * scale);
  };
  const targets = (values.targets ?? 'direct,leakwatch,mitmdump').split(',').map((s) => s.trim()).filter(Boolean);
  if (values['with-hmp'] && !targets.includes('hmp')) targets.push('hmp');
  for (const t of targets) {
    if (!['direct', 'leakwatch', 'mitmdump', 'hmp'].includes(t)) throw new Error(`unknown target "${t}"\n${USAGE}`);
  }
  // direct is the baseline every ratio is paired with: always measured.
  if (!targets.includes('direct')) targets.unshift('direct');
  return {
    mode,
    rounds: num(values.rounds, base.rounds),
    warmupMs: num(values.warmup, base.warmupMs, 1000),
    windowMs: num(values.window, base.windowMs, 1000),
    combos: [
      { body: 'small', c: 50 }, { body: 'big', c: 50 }, { body: 'small', c: 1 }, { body: 'big', c: 1 },
    ],
    newHostSeq: base.newHostSeq,
    newHostBurst: 20,
    rssFirst: base.rssFirst,
    rssTotal: base.rssTotal,
    storeFindings: base.storeFindings,
    targets,
    cpuProf: values['cpu-prof'] === true,
    out: values.out ?? join(resultsDir, 'latest.json'),
  };
}
