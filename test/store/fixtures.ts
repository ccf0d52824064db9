/** Builders for synthetic audited exchanges and temp stores (real SQLite files, never mocks). */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Audit, Finding } from '../../core/audit.js';
import type { Exchange } from '../../core/exchange.js';
import { silentLogger } from '../../core/log.js';
import type { PipelineItem } from '../../core/pipeline.js';
import { openStore, type Store, type StoreOptions } from '../../store/db.js';
import { createRecorder, type RecorderOptions } from '../../store/recorder.js';
import { tempDir as fileTempDir } from '../helpers/temp.js';

export const KEY = Buffer.alloc(32, 7);

/** `cleanup` removes it at once; a store a test did not clean up goes after the file. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = fileTempDir('lw-store-');
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function tempStore(opts: StoreOptions = {}): { store: Store; dir: string; file: string; cleanup: () => void } {
  const t = tempDir();
  const file = join(t.dir, 'leakwatch.db');
  const store = openStore(file, { redactKey: KEY, ...opts });
  return { store, dir: t.dir, file, cleanup: () => { store.close(); t.cleanup(); } };
}

export interface ExOpts {
  readonly time?: number;
  readonly host?: string;
  readonly path?: string;
  readonly status?: number;
  readonly reqBody?: string;
  readonly resBody?: string;
  readonly headers?: Array<[string, string]>;
}

export function exchange(id: number, o: ExOpts = {}): Exchange {
  const host = o.host ?? 'vector.im';
  const path = o.path ?? `/_matrix/identity/v2/lookup?n=${id}`;
  const req = Buffer.from(o.reqBody ?? '');
  const res = Buffer.from(o.resBody ?? '{"ok":true}');
  const time = o.time ?? 1_700_000_000_000 + id * 10;
  return {
    id, kind: 'http', listener: 'proxy', startedAt: time, endedAt: time + 5,
    client: { address: '127.0.0.1', port: 50000 },
    request: {
      method: o.reqBody ? 'POST' : 'GET', url: `https://${host}${path}`, scheme: 'https', host, port: 443, path,
      httpVersion: '1.1', headers: o.headers ?? [['Host', host], ['User-Agent', 'Element/1.0']],
      body: { bytes: req, size: req.length, truncated: false },
    },
    response: { status: o.status ?? 200, statusMessage: 'OK', headers: [['Content-Type', 'application/json']],
      body: { bytes: res, size: res.length, truncated: false } },
  };
}

export function audit(findings: Finding[], party = 'vector.im', category: Audit['classification'] extends infer C ? C extends { category: infer K } ? K : never : never = 'identity-server'): Audit {
  return {
    classification: { ruleId: `${party}/rule`, party, category, severity: 'high', action: 'log' },
    firstParty: false, findings, severity: findings.length ? 'high' : 'none', verdict: 'allow', notes: [],
  };
}

export const finding = (kind: Finding['kind'], value: string, where = 'request.body.x'): Finding =>
  ({ kind, value, where, method: 'structural' });

export function item(ex: Exchange, a?: Audit): PipelineItem {
  return a ? { exchange: ex, audit: a } : { exchange: ex };
}

export function recorder(store: Store, o: Partial<RecorderOptions> = {}) {
  return createRecorder(store, {
    sessionId: store.openSession('test').id, storeBodies: 'leaks', redact: false, redactKey: KEY, log: silentLogger, ...o,
  });
}
