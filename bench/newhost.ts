/**
 * First request to a never-seen host name: a brand-new dispatcher per request, so each one pays a
 * new CONNECT, the proxy's certificate for that name, and fresh TLS on both sides. Sequential names
 * give the per-host cost (p50); a burst of parallel new names shows whether that cost blocks the
 * proxy (a page pulling 20 third-party domains at once).
 */
import { get, makeDispatcher, round } from './loadgen.js';

async function once(proxy: string | null, ca: Buffer[], host: string, originPort: number): Promise<number> {
  const d = makeDispatcher(proxy, ca, 1);
  const t = performance.now();
  try {
    await get(d, new URL(`https://${host}:${originPort}/small`));
    return performance.now() - t;
  } finally {
    await d.close().catch((err: unknown) => void err);
  }
}

export interface NewHostResult {
  seqMs: number[];
  seqP50: number;
  burstN: number;
  burstWallMs: number;
  burstSlowestMs: number;
  errors: number;
  firstError: string | null;
}

export async function runNewHosts(
  proxy: string | null,
  ca: Buffer[],
  originPort: number,
  seqHosts: readonly string[],
  burstHosts: readonly string[],
): Promise<NewHostResult> {
  let errors = 0;
  let firstError: string | null = null;
  const fail = (err: unknown): number => {
    errors++;
    firstError ??= String((err as { cause?: unknown }).cause ?? err);
    return NaN;
  };
  const seq: number[] = [];
  for (const h of seqHosts) seq.push(await once(proxy, ca, h, originPort).catch(fail));
  const t0 = performance.now();
  const burst = await Promise.all(burstHosts.map((h) => once(proxy, ca, h, originPort).catch(fail)));
  const wall = performance.now() - t0;
  const ok = seq.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return {
    seqMs: seq.map((x) => round(x, 2)),
    seqP50: round(ok[Math.floor(ok.length / 2)] ?? NaN, 2),
    burstN: burstHosts.length,
    burstWallMs: errors ? NaN : round(wall, 1),
    burstSlowestMs: round(Math.max(...burst), 1),
    errors,
    firstError,
  };
}
