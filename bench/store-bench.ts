/**
 * Store figures: ingest rate through the same batch writer the recorder uses (transactions of
 * 1000, as the recorder's default maxBatch), then the dashboard's summary query over N synthetic
 * findings (1M in the full run). The store is imported from the build at run time, so the bench
 * still runs (with nulls and a note) while store/ is missing or broken.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Audit } from '../core/audit.js';
import type { Exchange } from '../core/exchange.js';
import type { Category, Kind } from '../core/vocabulary.js';
import { round } from './loadgen.js';

export interface StoreBenchResult {
  findings: number;
  exchanges: number;
  /** Exchange rows per second of wall time inside write(). */
  ingest_rows_per_s: number | null;
  ingest_findings_per_s: number | null;
  /** Exchange and finding rows per second of wall time (details and body rows not counted). */
  ingest_total_rows_per_s: number | null;
  /** Exchange rows per second of CPU time inside write(): what a busy machine cannot blur. */
  ingest_rows_per_cpu_s: number | null;
  summary_query_ms: number | null;
  summary_query_cold_ms: number | null;
  timeline_query_ms: number | null;
  list_flows_ms: number | null;
  note: string | null;
}

const HOSTS = Array.from({ length: 60 }, (_, i) => `t${i}.tracker${i % 7}.example`);
const PARTIES = Array.from({ length: 25 }, (_, i) => `Party ${i}`);
const CATS: Category[] = ['analytics', 'crash-report', 'phone-home', 'push-gateway', 'identity-server', 'cdn'];
const KINDS: Kind[] = ['email', 'device_id', 'location', 'mxid', 'user_agent', 'ip_address', 'tracking_id', 'room_id'];
const EMPTY = { bytes: Buffer.alloc(0), size: 0, truncated: false };

/** A GA4-style beacon with three findings; values repeat from pools, like real traffic. */
function synthetic(id: number, now: number): { exchange: Exchange; audit: Audit } {
  const host = HOSTS[id % HOSTS.length] as string;
  const path = `/g/collect?v=2&tid=G-${(id % 97).toString(36).toUpperCase()}&cid=${id % 5000}.${1700000000 + (id % 9999)}&en=page_view&dl=https%3A%2F%2Fapp.example%2Froom%2F${id % 300}&ul=en-us&sr=1920x1080`;
  const startedAt = now - 86_400_000 + id * 10;
  const exchange: Exchange = {
    id, kind: 'http', listener: 'proxy', startedAt, endedAt: startedAt + 3,
    client: { address: '127.0.0.1', port: 40000 + (id % 20000) },
    request: { method: 'GET', url: `https://${host}${path}`, scheme: 'https', host, port: 443, path, httpVersion: '1.1',
      headers: [['host', host], ['user-agent', 'Mozilla/5.0 bench']], body: EMPTY },
    response: { status: 204, statusMessage: 'No Content', headers: [['content-length', '0']], body: EMPTY },
  };
  const p = id % PARTIES.length;
  const findings = [0, 1, 2].map((k) => {
    const kind = KINDS[(id + k * 3) % KINDS.length] as Kind;
    return { kind, value: `${kind}-value-${(id * 7 + k) % 20000}`, where: `request.query.f${k}`, method: 'structural' };
  });
  const audit: Audit = {
    classification: { ruleId: `rule.${p}`, party: PARTIES[p] as string, category: CATS[p % CATS.length] as Category,
      severity: 'medium', action: 'log' },
    firstParty: false, findings, severity: 'medium', verdict: 'allow', notes: [],
  };
  return { exchange, audit };
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? NaN;

export async function runStoreBench(dir: string, findings: number): Promise<StoreBenchResult> {
  const exchanges = Math.ceil(findings / 3);
  const out: StoreBenchResult = {
    findings: exchanges * 3, exchanges, ingest_rows_per_s: null, ingest_findings_per_s: null,
    ingest_total_rows_per_s: null, ingest_rows_per_cpu_s: null,
    summary_query_ms: null, summary_query_cold_ms: null, timeline_query_ms: null, list_flows_ms: null, note: null,
  };
  let mods;
  try {
    mods = await Promise.all([import('../store/db.js'), import('../store/write.js'), import('../store/queries.js')]);
  } catch (err: unknown) {
    out.note = `store/ not usable from dist yet (${String(err).split('\n')[0]}); store figures left null`;
    return out;
  }
  const [{ openStore }, { createWriter }, { createQueries }] = mods;
  const store = openStore(join(dir, 'store-bench.db'));
  try {
    const session = store.openSession('bench');
    const write = createWriter(store, { sessionId: session.id, storeBodies: 'leaks', redact: false, redactKey: randomBytes(32) });
    const now = Date.now();
    let busy = 0; // time inside write() only: building the synthetic rows is the proxy's job, not the store's
    let cpu = 0; // µs; write() is synchronous, so the process's CPU inside it is the writer's
    for (let start = 1; start <= exchanges; start += 1000) {
      const batch = [];
      for (let id = start; id < Math.min(start + 1000, exchanges + 1); id++) batch.push(synthetic(id, now));
      const t = performance.now();
      const c = process.cpuUsage();
      write(batch);
      const dc = process.cpuUsage(c);
      busy += performance.now() - t;
      cpu += dc.user + dc.system;
    }
    out.ingest_rows_per_s = Math.round(exchanges / (busy / 1e3));
    out.ingest_findings_per_s = Math.round((exchanges * 3) / (busy / 1e3));
    out.ingest_total_rows_per_s = Math.round((out.exchanges + out.findings) / (busy / 1e3));
    out.ingest_rows_per_cpu_s = Math.round(exchanges / (cpu / 1e6));
    const q = createQueries(store);
    const time = (f: () => unknown): number => {
      const t = performance.now();
      f();
      return performance.now() - t;
    };
    out.summary_query_cold_ms = round(time(() => q.summary()), 2);
    out.summary_query_ms = round(median(Array.from({ length: 7 }, () => time(() => q.summary()))), 2);
    out.timeline_query_ms = round(median(Array.from({ length: 5 }, () => time(() => q.timeline({ since: now - 86_400_000 })))), 2);
    out.list_flows_ms = round(median(Array.from({ length: 5 }, () => time(() => q.listFlows({ kind: 'email' })))), 2);
  } catch (err: unknown) {
    out.note = `store bench failed: ${String(err).split('\n')[0]}`;
  } finally {
    store.close();
  }
  return out;
}
