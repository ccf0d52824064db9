/**
 * Store figures for bench/README.md (prints, asserts nothing):
 *   npx tsx store/bench-store.ts   or   node dist/store/bench-store.js [exchanges] [summaryFindings]
 * 1. rows/s through the recorder (exchanges with 3 findings each, bodies of leaking exchanges);
 * 2. bytes per exchange on disk after a checkpoint;
 * 3. summary query time over N synthetic findings (goal <= 100 ms at 1M).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Audit } from '../core/audit.js';
import type { Exchange } from '../core/exchange.js';
import { createLogger } from '../core/log.js';
import { openStore } from './db.js';
import { createQueries } from './queries.js';
import { createRecorder } from './recorder.js';

const log = createLogger('info');
const PARTIES = Array.from({ length: 40 }, (_, i) => `tracker${i}.example`);
const KINDS = ['email', 'mxid', 'device_id', 'user_agent', 'ip_address', 'room_id'] as const;

function synthetic(id: number, t0: number): { exchange: Exchange; audit: Audit } {
  const party = PARTIES[id % PARTIES.length]!;
  const path = `/g/collect?v=2&tid=G-${id % 97}&cid=${id % 5000}.${id % 31}&en=page_view&dl=https%3A%2F%2Fapp.element.io%2F%23%2Froom%2F!r${id % 300}`;
  const body = Buffer.from(JSON.stringify({ threepids: [{ medium: 'email', address: `user${id % 1000}@example.org` }], device: `DEV${id % 50}` }));
  const exchange: Exchange = {
    id, kind: 'http', listener: 'proxy', startedAt: t0 + id * 5, endedAt: t0 + id * 5 + 40,
    client: { address: '192.168.1.20', port: 40000 + (id % 1000) },
    request: { method: 'POST', url: `https://${party}${path}`, scheme: 'https', host: party, port: 443, path, httpVersion: '1.1',
      headers: [['Host', party], ['User-Agent', 'Element/1.11.0 (Android 14)'], ['Content-Type', 'application/json'], ['Accept-Language', 'en-GB']],
      body: { bytes: body, size: body.length, truncated: false } },
    response: { status: 200, statusMessage: 'OK', headers: [['Content-Type', 'application/json'], ['Content-Length', '2']],
      body: { bytes: Buffer.from('{}'), size: 2, truncated: false } },
  };
  const findings = [0, 1, 2].map((k) => {
    const kind = KINDS[(id + k) % KINDS.length]!;
    return { kind, value: `${kind}-value-${(id * 7 + k) % 2000}`, where: `request.body.f${k}`, method: 'structural' };
  });
  const audit: Audit = { classification: { ruleId: `${party}/collect`, party, category: 'analytics', severity: 'high', action: 'log' },
    firstParty: false, findings, severity: 'high', verdict: 'allow', notes: [] };
  return { exchange, audit };
}

async function ingest(dir: string, n: number): Promise<void> {
  const file = join(dir, 'ingest.db');
  const store = openStore(file);
  const rec = createRecorder(store, { sessionId: store.openSession('bench').id, storeBodies: 'leaks', redact: false,
    redactKey: Buffer.alloc(32, 1), log, maxQueue: n + 1 });
  const t0 = Date.now();
  const items = Array.from({ length: n }, (_, i) => synthetic(i + 1, t0));
  const start = process.hrtime.bigint();
  for (const it of items) rec.stage.run(it);
  await rec.close();
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  store.close();
  const bytes = statSync(file).size;
  log.info({ exchanges: n, seconds: +secs.toFixed(2), rowsPerSec: Math.round(n / secs), findingsPerSec: Math.round((3 * n) / secs),
    fileBytes: bytes, bytesPerExchange: Math.round(bytes / n) }, 'ingest through the recorder (3 findings each, bodies kept)');
}

async function summaryTime(dir: string, findings: number): Promise<void> {
  const file = join(dir, 'summary.db');
  const store = openStore(file);
  const rec = createRecorder(store, { sessionId: store.openSession('bench').id, storeBodies: 'none', redact: false,
    redactKey: Buffer.alloc(32, 1), log, maxQueue: 60_000 });
  const t0 = Date.now() - 86_400_000;
  const n = Math.ceil(findings / 3);
  for (let i = 1; i <= n; i += 50_000) {
    for (let j = i; j < Math.min(n + 1, i + 50_000); j++) rec.stage.run(synthetic(j, t0));
    await rec.flush();
  }
  await rec.close();
  const q = createQueries(store);
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const s = process.hrtime.bigint();
    q.summary();
    runs.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  const tl = process.hrtime.bigint();
  const points = q.timeline({ bucketMs: 3_600_000 }).length;
  const tlMs = Number(process.hrtime.bigint() - tl) / 1e6;
  const lf = process.hrtime.bigint();
  q.listFlows({ kind: 'email', limit: 100 });
  const lfMs = Number(process.hrtime.bigint() - lf) / 1e6;
  runs.sort((a, b) => a - b);
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  log.info({ findings: store.db.prepare('SELECT count(*) FROM findings').pluck().get(), cells: q.summary().length,
    bytesPerExchangeNoBodies: Math.round(statSync(file).size / n),
    summaryMsMedian: +runs[3]!.toFixed(2), summaryMsMax: +runs[6]!.toFixed(2), timelineHourlyMs: +tlMs.toFixed(2), timelinePoints: points,
    listFlowsKindMs: +lfMs.toFixed(2) }, 'summary query over synthetic findings');
  store.close();
}

const dir = mkdtempSync(join(tmpdir(), 'lw-bench-'));
try {
  await ingest(dir, Number(process.argv[2] ?? 100_000));
  await summaryTime(dir, Number(process.argv[3] ?? 1_000_000));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
