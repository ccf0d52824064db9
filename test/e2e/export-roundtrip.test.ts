/**
 * The export round trip: exchanges recorded by the live proxy, exported as HAR, re-analysed with
 * `leakwatch analyze`, give the same findings; the jsonl export carries the analyze shape plus
 * id, time, status and session.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeCommand } from '../../cli/analyze.js';
import { exportCommand } from '../../cli/export.js';
import { startLeakwatch, type Running } from '../../cli/start.js';
import { validateStartFlags } from '../../cli/start-options.js';
import { silentLogger } from '../../core/log.js';
import { dbPath, openStore } from '../../store/db.js';
import { createQueries } from '../../store/queries.js';
import { dashboardClient, proxiedFetch } from '../helpers/matrix-e2e.js';
import { identityServerHandler, standInPki, STANDIN, startStandIn, type StandIn } from '../helpers/matrix-standins.js';

const IS = 'vector.im';
const BOB = 'bob@example.com';
const hash = (a: string): string => createHash('sha256').update(`${a} email ${STANDIN.pepper}`).digest('base64url');
const IDENTITY = [`email=${BOB}`, 'email=alice@example.org'];

let dir: string;
let dataDir: string;
let is: StandIn | undefined;
let running: Running | undefined;

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({ write(c: Buffer, _e, cb) { chunks.push(Buffer.from(c)); cb(); } }),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

const key = (l: { kind: string; value: string; where: string; method: string }): string => `${l.kind}|${l.value}|${l.where}|${l.method}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lw-e2e-export-'));
  dataDir = join(dir, 'data');
  const pki = await standInPki();
  is = await startStandIn(IS, pki, identityServerHandler({ [hash(BOB)]: '@bob:example.com' }));
  running = await startLeakwatch(
    validateStartFlags({ port: '0', dashboardPort: '0', dataDir, resolve: [is.resolveSpec], upstreamCa: [pki.caFile], identity: IDENTITY, session: 'roundtrip' }),
    silentLogger,
  );
  const caPem = readFileSync(running.caPath, 'utf8');
  const f = proxiedFetch(running.proxyUrl, caPem);
  const auth = { Authorization: `Bearer ${STANDIN.isToken}`, 'Content-Type': 'application/json' };
  await f.fetch(`https://${IS}/_matrix/identity/v2/hash_details?access_token=${STANDIN.isToken}`);
  await f.fetch(`https://${IS}/_matrix/identity/v2/lookup`, {
    method: 'POST', headers: auth,
    body: JSON.stringify({ addresses: [hash(BOB), hash('carol@example.org')], pepper: STANDIN.pepper, algorithm: 'sha256' }),
  });
  await f.fetch(`https://${IS}/_matrix/identity/v2/validate/email/requestToken`, {
    method: 'POST', headers: auth,
    body: JSON.stringify({ email: 'alice@example.org', client_secret: 'c5e1x', send_attempt: '1' }),
  });
  await f.close();
  await dashboardClient(running.dashboardUrl, running.token).waitFor((l) => l.length >= 3, 3000);
  await running.close();
  running = undefined;
});

afterAll(async () => {
  await running?.close();
  await is?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('export round trip', () => {
  it('HAR export re-analysed with `leakwatch analyze` yields the same findings as recorded', async () => {
    const har = sink();
    await exportCommand({ dataDir, format: 'har', out: har.stream });
    const file = join(dir, 'export.har');
    writeFileSync(file, har.text());

    const out = sink();
    expect(await analyzeCommand(file, { json: true, identity: IDENTITY }, out.stream, sink().stream)).toBe(0);
    const analysed = out.text().trimEnd().split('\n').map((l) => JSON.parse(l) as { url: string; rule: string | null; leaks: Array<{ kind: string; value: string; where: string; method: string }> });

    const store = openStore(dbPath(dataDir));
    try {
      const q = createQueries(store);
      const recorded = q.listFlows({ limit: 100 }).reverse();
      expect(analysed).toHaveLength(recorded.length);
      expect(recorded.length).toBeGreaterThanOrEqual(3);
      recorded.forEach((row, i) => {
        const a = analysed[i]!;
        expect(a.url).toBe(row.url);
        expect(a.rule).toBe(row.rule);
        const stored = q.getFlow(row.id)!.findings.map(key).sort();
        expect(a.leaks.map(key).sort()).toEqual(stored);
      });
      expect(analysed.some((a) => a.leaks.some((l) => l.kind === 'email' && l.value === BOB))).toBe(true);
    } finally {
      store.close();
    }
  });

  it('jsonl export: the analyze shape plus id, time, status and session', async () => {
    const out = sink();
    await exportCommand({ dataDir, format: 'jsonl', out: out.stream });
    const rows = out.text().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const r of rows) {
      expect(Object.keys(r)).toEqual(expect.arrayContaining(['id', 'time', 'session', 'method', 'url', 'status', 'category', 'party', 'rule', 'severity', 'verdict', 'leaks']));
      expect(r['session']).toBe('roundtrip');
      expect(typeof r['time']).toBe('string');
    }
  });
});
