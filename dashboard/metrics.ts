/**
 * GET /metrics in the Prometheus text exposition format (version 0.0.4). Counters count since this
 * process started (Prometheus handles resets); gauges are read at scrape time.
 */
import type { RecorderStats } from './data-source.js';
import type { HubCounters } from './hub.js';
import type { HealthView } from './types.js';

export interface MetricsInput {
  counters: HubCounters;
  recorder: RecorderStats;
  health: HealthView;
  stream: Record<string, number>;
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
  return e.toString();
}
