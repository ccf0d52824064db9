/**
 * Dashboard query figures on a big store (prints, asserts nothing):
 *   npx tsc -p tsconfig.build.json && node dist/bench/dashboard-queries.js [exchanges=1000000]
 * Builds a store of N exchanges in a temp dir through the real recorder (so the exposure triggers
 * run as in the field), then times what the dashboard asks: the first page of Live, a value search
 * (a rare and a common value), a host search, the filter dropdowns, Who knows what, the TLS-failure
 * filter and the Health counts, each through the dashboard's own data source. The temp dir goes
 * at the end (unless LW_BENCH_DIR names it: then a bench.db already there is measured again).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Audit } from '../core/audit.js';
import type { Exchange } from '../core/exchange.js';
import { createLogger } from '../core/log.js';
import { storeDataSource } from '../dashboard/store-adapter.js';
import type { FlowQuery } from '../dashboard/data-source.js';
import { openStore } from '../store/db.js';
import { createQueries } from '../store/queries.js';
import { createInlineRecorder } from '../store/recorder-inline.js';

const N = Number(process.argv[2] ?? 1_000_000);
const BATCH = 20_000;
const HOSTS = Array.from({ length: 200 }, (_, i) => `t${i}.tracker${i % 23}.example`);
const KINDS = ['email', 'mxid', 'device_id', 'user_agent', 'ip_address', 'room_id'] as const;
const EMPTY = { bytes: Buffer.alloc(0), size: 0, truncated: false };

function synthetic(id: number, t0: number): { exchange: Exchange; audit?: Audit } {
  const host = HOSTS[id % HOSTS.length]!;
  const tls = id % 1000 === 0;
  const path = `/g/collect?v=2&cid=${id % 5000}&en=page_view&dl=%2Froom%2F${id % 300}`;
  const exchange: Exchange = {
    id, kind: tls ? 'tls-failure' : 'http', listener: 'proxy', startedAt: t0 + id * 5, endedAt: t0 + id * 5 + 40,
    client: { address: '192.168.1.20', port: 40000 + (id % 1000) },
    request: { method: tls ? 'CONNECT' : 'POST', url: `https://${host}${path}`, scheme: 'https', host, port: 443, path, httpVersion: '1.1',
      headers: [['Host', host], ['User-Agent', 'Element/1.11.0 (Android 14)']], body: EMPTY },
    ...(tls ? { error: { code: 'LW_TLS_CLIENT', message: 'client rejected the certificate' } } : {
      response: { status: 200, statusMessage: 'OK', headers: [['Content-Length', '0']], body: EMPTY } }),
  } as Exchange;
  if (tls) return { exchange };
  // Values repeat from pools, like real traffic; `rare-<id>` occurs once in the whole store.
  const findings = [0, 1, 2].map((k) => {
    const kind = KINDS[(id + k) % KINDS.length]!;
    return { kind, value: k === 2 && id % 100_000 === 7 ? `rare-${id}@example.org` : `${kind}-value-${(id * 7 + k) % 2000}`, where: `request.body.f${k}`, method: 'structural' };
  });
  const ruled = id % 10 !== 0;
  const audit: Audit = {
    classification: ruled ? { ruleId: `${host}/collect`, party: `Party ${id % 25}`, category: 'analytics', severity: 'high', action: 'log' } : null,
    firstParty: false, findings, severity: 'high', verdict: id % 7 === 0 ? 'block' : 'allow', notes: [],
  };
  return { exchange, audit };
}

const ms = (f: () => unknown): number => {
  const s = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - s) / 1e6;
};

async function main(): Promise<void> {
  const dir = process.env['LW_BENCH_DIR'] ?? mkdtempSync(join(tmpdir(), 'lw-bench-dash-'));
  const log = createLogger('warn');
  try {
    // LW_BENCH_DIR holding a bench.db from an earlier run: measure it (migrated if older) as is.
    const reuse = existsSync(join(dir, 'bench.db'));
    const store = openStore(join(dir, 'bench.db'));
    const rec = createInlineRecorder(store, { sessionId: store.openSession('bench').id, storeBodies: 'none', redact: false,
      redactKey: Buffer.alloc(32, 1), log, maxQueue: BATCH * 2, maxBatch: 2000 });
    const t0 = Date.now() - N * 5;
    const start = Date.now();
    for (let i = 1; i <= (reuse ? 0 : N); i += BATCH) {
      for (let id = i; id < Math.min(N + 1, i + BATCH); id++) rec.stage.run(synthetic(id, t0));
      await rec.flush();
    }
    await rec.close();
    const built = (Date.now() - start) / 1000;
    const q = createQueries(store);
    const data = storeDataSource(q, { stats: () => ({ queued: 0, written: 0, dropped: 0, failures: 0, lastError: null }) });
    const rareId = 7 + 100_000 * Math.floor((N - 7) / 100_000);
    const cases: Array<[string, () => unknown]> = [
      ['Live first page (300)', () => data.listFlows({ limit: 300 })],
      ['Live count (capped 10 000)', () => data.countFlows({}, 10_000)],
      ['value search, rare value (first page)', () => data.listFlows({ limit: 300, q: `rare-${rareId}@example.org` })],
      ['value search, common value (first page)', () => data.listFlows({ limit: 300, q: 'email-value-1234' })],
      ['value search, common value (count)', () => data.countFlows({ q: 'email-value-1234' }, 10_000)],
      ['host search "tracker7" (first page)', () => data.listFlows({ limit: 300, q: 'tracker7' })],
      ['exact host filter (first page)', () => data.listFlows({ limit: 300, host: HOSTS[3]! })],
      ['party + kind filter (first page)', () => data.listFlows({ limit: 300, party: 'Party 3', kind: 'email' })],
      ['TLS failures (first page)', () => data.listFlows({ limit: 300, type: 'tls-failure' } as FlowQuery)],
      ['Who knows what (exposure)', () => data.exposure({})],
      ['filter dropdowns (facets)', () => data.facets()],
      ['Health counts', () => data.storeCounts()],
    ];
    const rows = cases.map(([name, f]) => {
      const cold = ms(f);
      const warm = Math.min(ms(f), ms(f), ms(f));
      return { name, cold: +cold.toFixed(1), warm: +warm.toFixed(1) };
    });
    process.stdout.write(`${N} exchanges built in ${built.toFixed(0)} s (${Math.round(N / built)}/s with the exposure triggers)\n`);
    process.stdout.write('| query | first run ms | warm ms |\n|---|---:|---:|\n');
    for (const r of rows) process.stdout.write(`| ${r.name} | ${r.cold} | ${r.warm} |\n`);
    store.close();
  } finally {
    if (!process.env['LW_BENCH_DIR']) rmSync(dir, { recursive: true, force: true });
  }
}

void main();
