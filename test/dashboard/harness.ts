/**
 * A real dashboard over a real store and the real audit pipeline: temp data dir, SQLite store,
 * recorder, built-in rule packs, a real CA (public part only handed over). `send()` pushes an
 * Exchange through audit -> recorder -> stream exactly as the proxy will.
 */
import { rmSync } from 'node:fs';
import { tempDir } from '../helpers/temp.js';
import { join } from 'node:path';
import { loadOrCreateCa, type CaMaterial } from '../../certs/ca.js';
import type { Exchange } from '../../core/exchange.js';
import { silentLogger } from '../../core/log.js';
import { createPipeline, type Pipeline } from '../../core/pipeline.js';
import { startDashboard, type RunningDashboard } from '../../dashboard/server.js';
import { createStreamStage } from '../../dashboard/stage.js';
import { storeDataSource } from '../../dashboard/store-adapter.js';
import { rulesViewFromRuleset } from '../../dashboard/rules-view.js';
import { loadOrCreateDashboardToken } from '../../dashboard/token.js';
import type { DashboardOptions } from '../../dashboard/types.js';
import { createAuditStage } from '../../rules/audit.js';
import { knownValuesFromFlags } from '../../rules/identities.js';
import { loadRuleset } from '../../rules/load.js';
import { openStore, type Store } from '../../store/db.js';
import { createQueries } from '../../store/queries.js';
import { createRecorder, type Recorder } from '../../store/recorder.js';

export interface Harness {
  dir: string;
  token: string;
  ca: CaMaterial;
  dash: RunningDashboard;
  base: string;
  store: Store;
  recorder: Recorder;
  pipeline: Pipeline;
  send(ex: Exchange): Promise<void>;
  close(): Promise<void>;
}

let caCache: { dir: string; ca: CaMaterial } | undefined;

export async function startHarness(over: Partial<DashboardOptions> = {}): Promise<Harness> {
  const dir = tempDir('lw-dash-');
  // A CA per data dir is what `start` does; generating RSA keys is slow, so share one per file.
  caCache ??= { dir, ca: await loadOrCreateCa(dir) };
  const ca = caCache.ca;
  const token = loadOrCreateDashboardToken(dir);
  const store = openStore(join(dir, 'leakwatch.db'), { redactKey: Buffer.alloc(32, 7) });
  const session = store.openSession('dash-test');
  const recorder = createRecorder(store, {
    sessionId: session.id, storeBodies: 'all', redact: false, redactKey: Buffer.alloc(32, 7), log: silentLogger, flushMs: 20,
  });
  const ruleset = loadRuleset({ builtin: true, extra: [] });
  const known = knownValuesFromFlags(['email=alice@example.org', 'mxid=@alice:matrix.example.org'], []);
  const started = Date.now();
  const dash = await startDashboard({
    host: '127.0.0.1',
    port: 0,
    token,
    data: storeDataSource(createQueries(store), recorder),
    ca: { certPem: ca.certPem, certDer: ca.certDer, fingerprintSha256: ca.fingerprintSha256 },
    proxy: { host: '127.0.0.1', port: 8080 },
    rules: () => rulesViewFromRuleset(ruleset, { mode: 'observe' }),
    health: () => ({ version: '0.1.0-test', uptimeSeconds: (Date.now() - started) / 1000, queueDepth: pipeline.pending, dropped: recorder.stats().dropped }),
    log: silentLogger,
    stream: { session: session.name },
    ...over,
  });
  const pipeline = createPipeline(
    [
      createAuditStage(() => ({ ruleset, firstParty: new Set(['matrix.example.org']), known, mode: 'observe' })),
      recorder.stage,
      createStreamStage(dash.hub),
    ],
    () => undefined,
  );
  return {
    dir, token, ca, dash, base: dash.url, store, recorder, pipeline,
    async send(ex) {
      pipeline.submit(ex);
      await pipeline.drain();
    },
    async close() {
      await dash.close();
      await recorder.close();
      store.close();
      // The folder holding the shared CA goes with the file (tempDir), the others at once.
      if (caCache?.dir !== dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

let nextId = 1;
export const freshId = (): number => nextId++;

export interface ExOpts {
  id?: number;
  method?: string;
  host?: string;
  path?: string;
  reqHeaders?: Array<[string, string]>;
  reqBody?: string;
  status?: number;
  resHeaders?: Array<[string, string]>;
  resBody?: string;
}

export function exchange(o: ExOpts = {}): Exchange {
  const id = o.id ?? freshId();
  const host = o.host ?? 'vector.im';
  const path = o.path ?? '/_matrix/identity/v2/validate/email/requestToken';
  const req = Buffer.from(o.reqBody ?? JSON.stringify({ email: 'alice@example.org', client_secret: 'sekrit-123456', send_attempt: 1 }));
  const res = Buffer.from(o.resBody ?? '{"sid":"1234"}');
  const now = Date.now();
  return {
    id, kind: 'http', listener: 'proxy', startedAt: now, endedAt: now + 12,
    client: { address: '127.0.0.1', port: 50123 },
    request: {
      method: o.method ?? 'POST', url: `https://${host}${path}`, scheme: 'https', host, port: 443, path, httpVersion: '1.1',
      headers: o.reqHeaders ?? [['Host', host], ['User-Agent', 'Element/1.11 (test)'], ['Content-Type', 'application/json']],
      body: { bytes: req, size: req.length, truncated: false },
    },
    response: {
      status: o.status ?? 200, statusMessage: 'OK', headers: o.resHeaders ?? [['Content-Type', 'application/json']],
      body: { bytes: res, size: res.length, truncated: false },
    },
  };
}
