/**
 * GET /metrics in the Prometheus text exposition format (version 0.0.4). Counters count since this
 * process started (Prometheus handles resets); gauges are read at scrape time.
 */
import type { RecorderStats } from './data-source.js';
import type { HubCounters } from './hub.js';
import type { RuntimeStats } from '../core/runtime-stats.js';
import type { HealthView } from './types.js';

export interface MetricsInput {
  counters: HubCounters;
  recorder: RecorderStats;
  health: HealthView;
  stream: Record<string, number>;
  runtime: RuntimeStats;
}

/** Label values escape backslash, double quote and newline. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

class Exposition {
  private lines: string[] = [];
  metric(name: string, type: 'counter' | 'gauge', help: string, samples: Array<[Record<string, string>, number]>): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const ls = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
      this.lines.push(`${name}${ls.length ? `{${ls.join(',')}}` : ''} ${Number.isFinite(value) ? value : 0}`);
    }
  }
  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

const sorted = (m: Map<string, number>): Array<[string, number]> => [...m].sort(([a], [b]) => a.localeCompare(b));

export function renderMetrics(m: MetricsInput): string {
  const e = new Exposition();
  e.metric('leakwatch_flows_total', 'counter', 'Exchanges audited since start.', [[{}, m.counters.flows]]);
  e.metric(
    'leakwatch_findings_total',
    'counter',
    'Leaked values found since start, by category of the receiving party.',
    sorted(m.counters.findingsByCategory).map(([category, n]) => [{ category }, n]),
  );
  e.metric(
    'leakwatch_findings_by_kind_total',
    'counter',
    'Leaked values found since start, by kind of datum.',
    sorted(m.counters.findingsByKind).map(([kind, n]) => [{ kind }, n]),
  );
  e.metric('leakwatch_recorder_queue_depth', 'gauge', 'Records waiting to be written to SQLite.', [[{}, m.recorder.queued]]);
  e.metric('leakwatch_recorder_written_total', 'counter', 'Records written to SQLite.', [[{}, m.recorder.written]]);
  e.metric('leakwatch_recorder_dropped_total', 'counter', 'Records the recorder had to drop.', [[{}, m.recorder.dropped]]);
  e.metric('leakwatch_recorder_failures_total', 'counter', 'Failed recorder writes.', [[{}, m.recorder.failures]]);
  e.metric('leakwatch_pipeline_queue_depth', 'gauge', 'Exchanges waiting in the audit pipeline.', [[{}, m.health.queueDepth]]);
  e.metric('leakwatch_stream_dropped_total', 'counter', 'Exchanges the live stream dropped before batching.', [
    [{}, m.counters.droppedPending],
  ]);
  e.metric('leakwatch_stream_clients', 'gauge', 'Connected dashboard stream clients.', [[{}, m.stream['clients'] ?? 0]]);
  e.metric('leakwatch_stream_coalesced_batches_total', 'counter', 'Batches skipped for slow stream clients.', [
    [{}, m.stream['coalescedBatches'] ?? 0],
  ]);
  e.metric('leakwatch_stream_dropped_clients_total', 'counter', 'Stream clients closed for being too slow.', [
    [{}, m.stream['droppedClients'] ?? 0],
  ]);
  const { refusedClients = {}, ...listeners } = m.health.listeners ?? {};
  e.metric(
    'leakwatch_listener_stat',
    'gauge',
    'Listener counters (engine, dns, stun): counts since start; engine active and dns cacheSize are current values.',
    Object.entries(listeners).flatMap(([listener, stats]) => sorted(new Map(Object.entries(stats))).map(([stat, n]): [Record<string, string>, number] => [{ listener, stat }, n])),
  );
  e.metric(
    'leakwatch_clients_refused_total',
    'counter',
    'Connections and datagrams refused by --allow-client, per listener.',
    sorted(new Map(Object.entries(refusedClients))).map(([listener, n]) => [{ listener }, n]),
  );
  e.metric('leakwatch_uptime_seconds', 'gauge', 'Seconds since leakwatch started.', [[{}, m.health.uptimeSeconds]]);
  const d = m.runtime.eventLoopDelayMs;
  e.metric('leakwatch_event_loop_delay_ms', 'gauge', 'Event-loop delay over the last minute (p50, p99, max), in milliseconds.', [
    [{ quantile: '0.5' }, d.p50], [{ quantile: '0.99' }, d.p99], [{ quantile: '1' }, d.max],
  ]);
  e.metric('leakwatch_gc_pauses_total', 'counter', 'Garbage-collection pauses since start.', [[{}, m.runtime.gc.count]]);
  e.metric('leakwatch_gc_pause_seconds_total', 'counter', 'Time spent in garbage-collection pauses since start, by kind.',
    sorted(new Map(Object.entries(m.runtime.gc.byKind))).map(([kind, n]) => [{ kind }, n]));
  e.metric('leakwatch_heap_used_bytes', 'gauge', 'V8 heap in use (main thread).', [[{}, m.runtime.heapUsedBytes]]);
  e.metric('leakwatch_heap_total_bytes', 'gauge', 'V8 heap reserved (main thread).', [[{}, m.runtime.heapTotalBytes]]);
  e.metric('leakwatch_resident_memory_bytes', 'gauge', 'Resident set size of the whole process (workers included).', [[{}, m.runtime.rssBytes]]);
  return e.toString();
}
