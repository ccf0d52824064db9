/**
 * The report at scale (prints figures, asserts nothing; not part of `npm test`):
 *   node dist/bench/report-scale.js [findings]        default 1 000 000
 * 1. fills a throw-away store with `findings` synthetic findings (5 per exchange, 40 parties on 80
 *    hosts, observe and enforce verdicts, strips and holds with their details, WebSocket messages);
 * 2. runs `leakwatch report --format html` over it in a fresh process (so the figure is the
 *    report's own memory, not the generator's) and prints its wall time and peak RSS;
 * 3. the same for JSON. Targets: HTML under 10 s, peak RSS under 200 MB at 1M findings.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Audit } from '../core/audit.js';
import type { Exchange } from '../core/exchange.js';
import type { Kind, Verdict } from '../core/vocabulary.js';
import { reportCommand } from '../cli/report.js';
import { openStore } from '../store/db.js';
import { createWriter, type RecordItem } from '../store/write.js';

const PER_EXCHANGE = 5;
const KINDS: readonly Kind[] = ['email', 'mxid', 'contact_hash', 'user_agent', 'ip_address', 'room_id', 'tracking_id', 'token'];
const VERDICTS: readonly Verdict[] = ['allow', 'allow', 'allow', 'would-block', 'would-strip', 'block', 'strip', 'hold'];

function synthetic(id: number, t0: number): RecordItem {
  const p = id % 40;
  const host = `h${id % 2}.party${p}.example`;
  const verdict = VERDICTS[id % VERDICTS.length]!;
  const ws = id % 17 === 0;
  const path = `/collect?cid=${id % 5000}`;
  const exchange: Exchange = {
    id, kind: ws ? 'websocket' : 'http', listener: 'proxy', startedAt: t0 + id * 3, endedAt: t0 + id * 3 + 20,
    client: { address: `192.168.1.${20 + (id % 5)}`, port: 40000 },
    request: { method: 'POST', url: `https://${host}${path}`, scheme: 'https', host, port: 443, path, httpVersion: '1.1',
      headers: [['Host', host], ['User-Agent', id % 3 ? 'Element/1.6.20 (Pixel 7; Android 14)' : 'Mozilla/5.0 Firefox/128.0'], ['Referer', 'https://app.element.io/']],
      body: { bytes: Buffer.alloc(0), size: 0, truncated: false } },
    response: { status: verdict === 'block' ? 403 : 200, statusMessage: 'OK', headers: [], body: { bytes: Buffer.alloc(0), size: 0, truncated: false } },
    ...(ws ? { websocket: { connectionId: id % 100, direction: id % 2 ? 'send' : 'receive', binary: false, data: { bytes: Buffer.alloc(0), size: 0, truncated: false } } } : {}),
    ...(verdict === 'strip' ? { decision: { verdict, ruleId: `r${p}`, detail: 'stripped headers Referer; json f1' } } : {}),
    ...(verdict === 'hold' ? { decision: { verdict, ruleId: `r${p}`, detail: id % 2 ? 'held, then denied by you (once)' : 'held, then allowed by you (once)' } } : {}),
  } as Exchange;
  const findings = Array.from({ length: PER_EXCHANGE }, (_, k) => {
    const kind = KINDS[(id + k) % KINDS.length]!;
    return { kind, value: `${kind}-${(id * 7 + k) % 50_000}@example.org`, where: k === 4 ? 'response.body.x' : `request.body.f${k}`, method: 'structural' };
  });
  const audit: Audit = {
    classification: p < 30 ? { ruleId: `r${p}`, party: `Party ${p}`, category: 'analytics', severity: p % 3 ? 'medium' : 'high', action: 'block' } : null,
    firstParty: false, findings, severity: p % 3 ? 'medium' : 'high', verdict, notes: [],
  };
  return { exchange, audit };
}

function fill(dataDir: string, findings: number): void {
  const store = openStore(join(dataDir, 'leakwatch.db'));
  const write = createWriter(store, { sessionId: store.openSession('scale').id, storeBodies: 'none', redact: false, redactKey: randomBytes(32) });
  const t0 = Date.now() - 86_400_000;
  const n = Math.ceil(findings / PER_EXCHANGE);
  for (let i = 1; i <= n; i += 2000) {
    const batch: RecordItem[] = [];
    for (let id = i; id < Math.min(i + 2000, n + 1); id++) batch.push(synthetic(id, t0));
    write(batch);
  }
  store.close();
}

/** Child mode: one report, then its wall time and peak RSS as JSON on stdout. */
function child(dataDir: string, format: string, out: string): void {
  const start = process.hrtime.bigint();
  reportCommand({ dataDir, session: ['scale'], format, out, builtinRules: false }, process.stdout, process.stderr);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(`${JSON.stringify({ seconds: +seconds.toFixed(2), peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === '--child') {
  child(args[0]!, args[1]!, args[2]!);
} else {
  const findings = Number(mode ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'lw-report-scale-'));
  try {
    const t = Date.now();
    fill(dir, findings);
    const dbBytes = statSync(join(dir, 'leakwatch.db')).size;
    process.stdout.write(`filled ${findings} findings in ${((Date.now() - t) / 1000).toFixed(1)} s (${Math.round(dbBytes / 1e6)} MB)\n`);
    const self = fileURLToPath(import.meta.url);
    for (const format of ['html', 'json']) {
      const out = join(dir, `report.${format}`);
      const line = execFileSync(process.execPath, [self, '--child', dir, format, out], { encoding: 'utf8' }).trim().split('\n').pop()!;
      process.stdout.write(`${format}: ${line} (${Math.round(statSync(out).size / 1024)} KB)\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
