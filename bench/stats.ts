/**
 * Medians and per-round paired ratios. Pairing inside a round (A and B measured back to back)
 * cancels most of the drift a shared machine adds; the median then drops the odd bad round.
 */
import type { LoadResult } from './loadgen.js';
import { round } from './loadgen.js';

export interface Sample {
  readonly round: number;
  readonly combo: string;
  readonly target: string;
  readonly res: LoadResult;
}

export function median(v: readonly number[]): number | null {
  const s = v.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export const r = (x: number | null, digits: number): number | null => (x === null ? null : round(x, digits));

/** Median over rounds of f(a, b), with a and b taken from the same round and combo. */
export function paired(
  samples: readonly Sample[],
  combo: string,
  a: string,
  b: string,
  f: (x: LoadResult, y: LoadResult) => number | null,
): number | null {
  const vals: number[] = [];
  for (const x of samples) {
    if (x.combo !== combo || x.target !== a) continue;
    const y = samples.find((s) => s.combo === combo && s.target === b && s.round === x.round);
    const v = y ? f(x.res, y.res) : null;
    if (v !== null && Number.isFinite(v)) vals.push(v);
  }
  return median(vals);
}

export const rpsRatio = (x: LoadResult, y: LoadResult): number => x.rps / y.rps;
export const cpuRatio = (x: LoadResult, y: LoadResult): number | null =>
  x.proxyCpuUsPerReq !== null && y.proxyCpuUsPerReq ? x.proxyCpuUsPerReq / y.proxyCpuUsPerReq : null;
export const addedP50 = (x: LoadResult, y: LoadResult): number => x.p50 - y.p50;
export const addedP99 = (x: LoadResult, y: LoadResult): number => x.p99 - y.p99;

export interface ComboSummary {
  runs: number;
  rps: number | null;
  rps_min: number | null;
  rps_max: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  cpu_us_per_req: number | null;
  loadgen_cpu_us_per_req: number | null;
  rss_mb: number | null;
  errors: number;
  first_error: string | null;
}

export function summarise(samples: readonly Sample[], combo: string, target: string): ComboSummary | null {
  const rs = samples.filter((s) => s.combo === combo && s.target === target).map((s) => s.res);
  if (rs.length === 0) return null;
  const m = (f: (x: LoadResult) => number | null): number | null =>
    median(rs.map(f).filter((v): v is number => v !== null));
  const rps = rs.map((x) => x.rps);
  return {
    runs: rs.length,
    rps: r(m((x) => x.rps), 1),
    rps_min: r(Math.min(...rps), 1),
    rps_max: r(Math.max(...rps), 1),
    p50_ms: r(m((x) => x.p50), 3),
    p99_ms: r(m((x) => x.p99), 3),
    cpu_us_per_req: r(m((x) => x.proxyCpuUsPerReq), 1),
    loadgen_cpu_us_per_req: r(m((x) => x.loadgenCpuUsPerReq), 1),
    rss_mb: r(m((x) => x.rssMb), 1),
    errors: rs.reduce((s, x) => s + x.errors, 0),
    first_error: rs.find((x) => x.firstError)?.firstError ?? null,
  };
}
