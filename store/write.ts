/**
 * Writes a batch of audited exchanges in one transaction: the exchange row, its findings, the
 * out-of-line details and bodies, and the summary/timeline aggregates (UPSERT, same transaction,
 * so the aggregates can never disagree with the raw rows). Called only by the recorder's flusher.
 */
import type { Audit } from '../core/audit.js';
import type { BodyCapture, Exchange } from '../core/exchange.js';
import { bodyKey, pack, packDetails, PART_REQUEST, PART_RESPONSE, PART_WEBSOCKET, type Details } from './blobs.js';
import type { Store } from './db.js';
import { rowBuffer } from './multi-insert.js';
import { createScrubber, keyedHash, maskValue } from './redact.js';
import { createValueInterner } from './values.js';

export type StoreBodies = 'none' | 'leaks' | 'all';

export interface RecordItem {
  readonly exchange: Exchange;
  readonly audit: Audit | undefined;
}

export interface WriterOptions {
  readonly sessionId: number;
  readonly storeBodies: StoreBodies;
  readonly redact: boolean;
  readonly redactKey: Buffer;
  /** Bytes kept per body (after the proxy's own capture cap). Default 256 KiB. */
  readonly bodyCap?: number;
}

const DEFAULT_PORT: Record<string, number> = { http: 80, https: 443, ws: 80, wss: 443 };

/** The url as scheme://host[:port]path: when it matches, the row stores no url column. */
export function rebuildUrl(scheme: string, host: string, port: number, path: string): string {
  const h = host.includes(':') ? `[${host}]` : host;
  const p = DEFAULT_PORT[scheme] === port ? '' : `:${port}`;
  return `${scheme}://${h}${p}${path}`;
}

export function createWriter(store: Store, opts: WriterOptions): (items: readonly RecordItem[]) => void {
  const { db, intern } = store;
  const values = createValueInterner(db);
  const cap = opts.bodyCap ?? 256 * 1024;
  // Rows of a batch go out in multi-row INSERTs (multi-insert.ts): a statement call per row was
  // most of the writer's time.
  const exchangeRows = rowBuffer(db, `INSERT INTO exchanges (id, time, duration, session_id, type_id, client_id,
    method, scheme, host_id, port, path, url, status, error_id, rule_id, party_id, category_id, severity_id,
    verdict_id, first_party, finding_count)`, 21);
  const findingRows = rowBuffer(db, 'INSERT INTO findings (exchange_id, kind_id, value_id, where_id, method_id)', 5, 64);
  const detailRows = rowBuffer(db, 'INSERT INTO details (exchange_id, data)', 2);
  const bodyRows = rowBuffer(db, 'INSERT INTO bodies (key, enc, size, truncated, data)', 5, 16);
  const upSummary = db.prepare(`INSERT INTO summary (session_id, party_id, category_id, kind_id, count, first_seen, last_seen)
    VALUES (?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET count = count + excluded.count,
    first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`);
  const upTimeline = db.prepare(`INSERT INTO timeline (minute, session_id, party_id, flows, leaks) VALUES (?,?,?,?,?)
    ON CONFLICT DO UPDATE SET flows = flows + excluded.flows, leaks = leaks + excluded.leaks`);

  const putBody = (id: number, part: number, body: BodyCapture | undefined): void => {
    if (!body || body.bytes.length === 0) return;
    const bytes = body.bytes.length > cap ? body.bytes.subarray(0, cap) : body.bytes;
    const p = pack(bytes);
    bodyRows.add(bodyKey(id, part), p.enc, body.size, body.truncated || bytes.length < body.bytes.length ? 1 : 0, p.data);
  };

  const writeOne = (item: RecordItem, summary: Map<string, number[]>, timeline: Map<string, number[]>): void => {
    const { exchange: ex, audit } = item;
    const c = audit?.classification ?? null;
    const findings = audit?.findings ?? [];
    const scrub = opts.redact ? createScrubber(findings.map((f) => f.value)) : (s: string) => s;
    const req = ex.request;
    const path = scrub(req.path);
    const url = scrub(req.url);
    const partyId = intern.id('parties', c?.party);
    const categoryId = intern.id('categories', c?.category);
    exchangeRows.add(ex.id, ex.startedAt, Math.max(0, ex.endedAt - ex.startedAt), opts.sessionId,
      intern.id('types', ex.kind), intern.id('clients', ex.client.address), req.method, req.scheme,
      intern.id('hosts', req.host), req.port, path,
      url === rebuildUrl(req.scheme, req.host, req.port, path) ? null : url,
      ex.response?.status ?? null, intern.id('errors', ex.error?.code), intern.id('rules', c?.ruleId ?? ex.applied?.ruleId),
      partyId, categoryId, intern.id('severities', audit?.severity ?? 'none'),
      intern.id('verdicts', audit?.verdict ?? ex.applied?.verdict ?? 'allow'), audit?.firstParty ? 1 : 0, findings.length);
    for (const f of findings) {
      const valueId = values.id(f.value, () => ({
        hash: keyedHash(opts.redactKey, f.value),
        shown: opts.redact ? maskValue(f.kind, f.value) : f.value,
        redacted: opts.redact,
      }));
      const kindId = intern.id('kinds', f.kind);
      findingRows.add(ex.id, kindId, valueId, intern.id('wheres', scrub(f.where)), intern.id('fmethods', f.method));
      const key = `${partyId},${categoryId},${kindId}`;
      const s = summary.get(key);
      if (s) { s[3]! += 1; s[4] = Math.min(s[4]!, ex.startedAt); s[5] = Math.max(s[5]!, ex.startedAt); }
      else summary.set(key, [partyId, categoryId, kindId, 1, ex.startedAt, ex.startedAt]);
    }
    const minute = Math.floor(ex.startedAt / 60000);
    const tkey = `${minute},${partyId}`;
    const t = timeline.get(tkey);
    if (t) { t[2]! += 1; t[3]! += findings.length; }
    else timeline.set(tkey, [minute, partyId, 1, findings.length]);

    const details: Details = {
      l: ex.listener, hv: req.httpVersion, qh: req.headers, qs: req.body.size,
      ...(ex.response ? { sm: ex.response.statusMessage, sh: ex.response.headers, ss: ex.response.body.size } : {}),
      ...(ex.websocket ? { ws: { c: ex.websocket.connectionId, d: ex.websocket.direction, b: ex.websocket.binary, n: ex.websocket.data.size } } : {}),
      ...(ex.error ? { em: ex.error.message } : {}),
      ...(audit && audit.notes.length > 0 ? { n: audit.notes } : {}),
      ...(ex.tls ? { tls: ex.tls } : {}),
      ...(ex.applied ? { ap: ex.applied } : {}),
      ...(ex.meta ? { m: ex.meta } : {}),
    };
    detailRows.add(ex.id, packDetails(scrub(JSON.stringify(details))));
    // Bodies are the most personal part: never with --redact, and by default only when they leaked.
    const keep = !opts.redact && (opts.storeBodies === 'all' || (opts.storeBodies === 'leaks' && findings.length > 0));
    if (keep) {
      putBody(ex.id, PART_REQUEST, req.body);
      putBody(ex.id, PART_RESPONSE, ex.response?.body);
      putBody(ex.id, PART_WEBSOCKET, ex.websocket?.data);
    }
  };

  const writeBatch = db.transaction((items: readonly RecordItem[]) => {
    const summary = new Map<string, number[]>();
    const timeline = new Map<string, number[]>();
    for (const item of items) writeOne(item, summary, timeline);
    exchangeRows.flush();
    findingRows.flush();
    detailRows.flush();
    bodyRows.flush();
    for (const s of summary.values()) upSummary.run(opts.sessionId, ...s);
    for (const t of timeline.values()) upTimeline.run(t[0], opts.sessionId, t[1], t[2], t[3]);
  });
  // Another connection (a `leakwatch purge` run) may delete interned values: when the file changed
  // under us, the id caches cannot be trusted.
  let seen = '';
  return (items) => {
    const now = `${db.pragma('data_version', { simple: true }) as number}/${store.epoch}`;
    if (now !== seen) {
      intern.reset();
      values.reset();
      seen = now;
    }
    try {
      writeBatch(items);
    } catch (err: unknown) {
      // Ids cached during the rolled-back transaction may not exist: forget them all.
      exchangeRows.clear();
      findingRows.clear();
      detailRows.clear();
      bodyRows.clear();
      intern.reset();
      values.reset();
      throw err;
    }
  };
}
