/**
 * Closed-loop HTTPS load generator: C workers, each with one keep-alive connection (direct, or a
 * CONNECT tunnel through the proxy), warm-up then a measured window. It uses undici's raw
 * dispatch() handler: request() + `for await` over the body was itself the bottleneck at 100 KB.
 * The proxy's CPU is read from /proc at the window edges, so CPU per request survives a noisy box.
 */
import type { LookupFunction } from 'node:net';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import { cpuMicros, rssMb } from './proc.js';

/** Every *.bench.test name dials the origin on loopback; the name still goes out as SNI and Host. */
export const loopbackLookup: LookupFunction = (hostname, options, callback) => {
  const cb = callback as unknown as (e: Error | null, a: unknown, f?: number) => void;
  if (options.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
};

// undici's 10 s connect timeout would turn a proxy that stalls on certificate generation (a known
// http-mitm-proxy weakness) into errors; 60 s lets the bench measure the stall instead.
const CONNECT_TIMEOUT_MS = 60_000;

export function makeDispatcher(proxy: string | null, ca: Buffer[], connections: number): Dispatcher {
  return proxy
    ? new ProxyAgent({
        uri: proxy,
        proxyTls: { timeout: CONNECT_TIMEOUT_MS },
        requestTls: { ca, timeout: CONNECT_TIMEOUT_MS },
        connections,
      })
    : new Agent({ connect: { ca, lookup: loopbackLookup, timeout: CONNECT_TIMEOUT_MS }, connections });
}

/** One GET through the raw handler; resolves with the status, counts body bytes, never buffers. */
export function get(d: Dispatcher, url: URL, onBytes?: (n: number) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    let status = 0;
    d.dispatch(
      { origin: url.origin, path: url.pathname + url.search, method: 'GET', headers: { host: url.host } },
      {
        onConnect() {},
        onError: reject,
        onHeaders(s: number) {
          status = s;
          return true;
        },
        onData(chunk: Buffer) {
          onBytes?.(chunk.length);
          return true;
        },
        onComplete() {
          if (status === 200) resolve(status);
          else reject(new Error(`status ${status}`));
        },
      },
    );
  });
}

export interface LoadOptions {
  readonly url: string;
  readonly proxy: string | null;
  readonly ca: Buffer[];
  readonly c: number;
  readonly warmupMs: number;
  /** Measured window; ignored when `requests` is set. */
  readonly durationMs: number;
  /** Fixed request count instead of a window (RSS phases); no warm-up then. */
  readonly requests?: number;
  /** The proxy's pid, if any: its CPU and RSS are read at the window edges. */
  readonly pid: number | null;
}

export interface LoadResult {
  reqs: number;
  secs: number;
  rps: number;
  errors: number;
  firstError: string | null;
  mbps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Proxy CPU (utime+stime, whole process tree) per measured request, µs; null for direct. */
  proxyCpuUsPerReq: number | null;
  loadgenCpuUsPerReq: number;
  rssMb: number | null;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const url = new URL(o.url);
  const d = makeDispatcher(o.proxy, o.ca, o.c);
  const fixed = o.requests !== undefined;
  const lat: number[] = [];
  let measuring = fixed;
  let stop = false;
  let started = 0;
  let primed = 0;
  let completed = 0; // completions inside the window: req/s and CPU per request use this
  let errors = 0;
  let firstError: string | null = null;
  let bytes = 0;
  let t0 = performance.now();
  let t1 = NaN;
  let cpu0 = o.pid ? cpuMicros(o.pid) : 0;
  let cpu1 = NaN;
  let self0 = process.cpuUsage();
  let self = { user: 0, system: 0 };
  const timers: NodeJS.Timeout[] = [];
  const end = (): void => {
    if (stop) return; // already ended (window closed, or nothing works)
    stop = true;
    t1 = performance.now();
    cpu1 = o.pid ? cpuMicros(o.pid) : 0;
    self = process.cpuUsage(self0);
  };
  // The window opens only after every worker has its connection (CONNECT + two TLS handshakes
  // can take seconds on a slow proxy) and then a warm-up, so set-up never leaks into the figures.
  const primeDone = (): void => {
    if (fixed || ++primed !== o.c) return;
    timers.push(setTimeout(() => {
      measuring = true;
      t0 = performance.now();
      cpu0 = o.pid ? cpuMicros(o.pid) : 0;
      self0 = process.cpuUsage();
      timers.push(setTimeout(end, o.durationMs));
    }, o.warmupMs));
  };
  timers.push(setTimeout(() => primed < o.c && (primed = o.c - 1, primeDone()), 30_000)); // never wait forever
  const onBytes = (n: number): void => {
    if (measuring && !stop) bytes += n;
  };
  const worker = async (): Promise<void> => {
    let first = true;
    while (!stop && !(fixed && started >= (o.requests ?? 0))) {
      started++;
      const s = performance.now();
      try {
        await get(d, url, onBytes);
        // Requests that began before the window straddle its edge: not counted.
        if (measuring && s >= t0) lat.push(performance.now() - s);
        if (measuring && !stop) completed++;
      } catch (err: unknown) {
        errors++;
        firstError ??= String((err as { cause?: unknown }).cause ?? err);
        if (errors > 1000 && completed === 0) end(); // nothing works: do not spin
      }
      if (first) (first = false), primeDone();
    }
  };
  await Promise.all(Array.from({ length: o.c }, worker));
  if (fixed) end();
  for (const t of timers) clearTimeout(t);
  const rss = o.pid ? rssMb(o.pid) : null;
  await d.close().catch((err: unknown) => void err);
  const secs = (t1 - t0) / 1e3;
  lat.sort((a, b) => a - b);
  const n = lat.length;
  const q = (p: number): number => round(lat[Math.min(n - 1, Math.floor(p * n))] ?? NaN, 3);
  return {
    reqs: completed,
    secs: round(secs, 2),
    rps: round(completed / secs, 1),
    errors,
    firstError,
    mbps: round(bytes / secs / 1e6, 2),
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    max: round(lat[n - 1] ?? NaN, 3),
    proxyCpuUsPerReq: o.pid && completed ? round((cpu1 - cpu0) / completed, 1) : null,
    loadgenCpuUsPerReq: completed ? round((self.user + self.system) / completed, 1) : NaN,
    rssMb: rss === null ? null : round(rss, 1),
  };
}

export const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
