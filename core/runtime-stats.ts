/**
 * What the process itself costs, as an admin scraping /metrics sees it: event-loop delay (what a
 * request waits before leakwatch even looks at it), garbage-collection pauses, heap and resident
 * memory. One monitor per process, started by the first reader; both are cheap (a histogram fed
 * by a libuv timer, and one callback per GC).
 */
import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';

/** Quantiles are over the last complete window (or the current one, before the first completes). */
const WINDOW_MS = 60_000;

export interface RuntimeStats {
  /** Event-loop delay over the window, in milliseconds. */
  readonly eventLoopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** GC pauses since start: how many, and their total in seconds (by kind: minor, major, incremental, weakcb). */
  readonly gc: { readonly count: number; readonly seconds: number; readonly byKind: Readonly<Record<string, number>> };
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly rssBytes: number;
}

interface Monitor {
  histogram: IntervalHistogram;
  windowStart: number;
  last: RuntimeStats['eventLoopDelayMs'] | null;
  gcCount: number;
  gcSeconds: number;
  gcByKind: Record<string, number>;
}

let monitor: Monitor | null = null;

// node:perf_hooks constants.NODE_PERFORMANCE_GC_*: 1 minor, 2 major, 4 incremental, 8 weak callbacks.
const GC_KINDS: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };

function start(): Monitor {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const m: Monitor = { histogram, windowStart: Date.now(), last: null, gcCount: 0, gcSeconds: 0, gcByKind: {} };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = GC_KINDS[(entry as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
      m.gcCount++;
      m.gcSeconds += entry.duration / 1000;
      m.gcByKind[kind] = (m.gcByKind[kind] ?? 0) + entry.duration / 1000;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return m;
}

const ms = (ns: number): number => Math.round(ns / 1e4) / 100;

function delay(h: IntervalHistogram): RuntimeStats['eventLoopDelayMs'] {
  // An empty histogram reports its bounds (max 0, min 9.2e18): say 0, not a nonsense figure.
  if (h.count === 0) return { p50: 0, p99: 0, max: 0 };
  return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
}

/** Starts the process's monitor on first use; later calls read it. */
export function runtimeStats(now = Date.now()): RuntimeStats {
  monitor ??= start();
  const m = monitor;
  if (now - m.windowStart >= WINDOW_MS) {
    m.last = delay(m.histogram);
    m.histogram.reset();
    m.windowStart = now;
  }
  const mem = process.memoryUsage();
  return {
    eventLoopDelayMs: m.last ?? delay(m.histogram),
    gc: { count: m.gcCount, seconds: m.gcSeconds, byKind: { ...m.gcByKind } },
    heapUsedBytes: mem.heapUsed,
    heapTotalBytes: mem.heapTotal,
    rssBytes: mem.rss,
  };
}
