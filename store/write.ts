/**
 * Writes a batch of audited exchanges in one transaction: the exchange row, its findings, the
 * out-of-line details and bodies, and the summary/timeline aggregates (UPSERT, same transaction,
 * so the aggregates can never disagree with the raw rows). Called only by the recorder's flusher.
 */
import { outcomeOf, type Audit } from '../core/audit.js';
import type { BodyCapture, Exchange } from '../core/exchange.js';
import { createBlobWriter } from './body-rows.js';
import { bodyKey, packDetails, PART_REQUEST, PART_RESPONSE, PART_WEBSOCKET, type Details } from './blobs.js';
import type { Store } from './db.js';
import { FINDING_ID_SPAN } from './migrations.js';
import { rowBuffer } from './multi-insert.js';
import { createScrubberCache, keyedHash, maskValue, scrubDeep, scrubTexts } from './redact.js';
import { createValueInterner } from './values.js';

export type StoreBodies = 'none' | 'leaks' | 'all';

/** Bodies are the most personal part: never with --redact, and by default only when they leaked. */
export function keepsBodies(opts: { readonly redact: boolean; readonly storeBodies: StoreBodies }, findings: number): boolean {
  return !opts.redact && (opts.storeBodies === 'all' || (opts.storeBodies === 'leaks' && findings > 0));
}

export interface RecordItem {
  readonly exchange: Exchange;
  readonly audit: Audit | undefined;
}

export interface WriterOptions {
  readonly sessionId: number;
  readonly storeBodies: StoreBodies;
  readonly redact: boolean;
  readonly redactKey: Buffer;
  /**
   * Values declared by the user (`--identity`): with `redact`, scrubbed from every exchange, found
   * in it or not (a detector may miss a spelling the user still does not want stored).
   */
  readonly declared?: readonly string[];
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
  const findingRows = rowBuffer(db, 'INSERT INTO findings (exchange_id, n, kind_id, value_id, where_id, method_id)', 6, 64);
  const detailRows = rowBuffer(db, 'INSERT INTO details (exchange_id, data)', 2);
  const bodyRows = rowBuffer(db, 'INSERT INTO bodies (key, size, truncated, blob_id)', 4);
  const blobs = createBlobWriter(db);
  const upSummary = db.prepare(`INSERT INTO summary (session_id, party_id, category_id, kind_id, count, first_seen, last_seen)
    VALUES (?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET count = count + excluded.count,
    first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`);
  const upTimeline = db.prepare(`INSERT INTO timeline (minute, session_id, party_id, flows, leaks) VALUES (?,?,?,?,?)
    ON CONFLICT DO UPDATE SET flows = flows + excluded.flows, leaks = leaks + excluded.leaks`);

  const putBody = (id: number, part: number, body: BodyCapture | undefined): void => {
    if (!body || body.bytes.length === 0) return;
    const bytes = body.bytes.length > cap ? body.bytes.subarray(0, cap) : body.bytes;
    bodyRows.add(bodyKey(id, part), body.size, body.truncated || bytes.length < body.bytes.length ? 1 : 0, blobs.id(bytes));
  };

  // Interned columns, each bound to its table once (a cache hit is then a single Map lookup).
  const partyOf = intern.idIn('parties');
  const categoryOf = intern.idIn('categories');
  const typeOf = intern.idIn('types');
  const clientOf = intern.idIn('clients');
  const hostOf = intern.idIn('hosts');
  const errorOf = intern.idIn('errors');
  const ruleOf = intern.idIn('rules');
  const severityOf = intern.idIn('severities');
  const verdictOf = intern.idIn('verdicts');
  const kindOf = intern.idIn('kinds');
  const whereOf = intern.idIn('wheres');
  const methodOf = intern.idIn('fmethods');
  const identity = (s: string): string => s;
  const scrubberFor = createScrubberCache(opts.declared ?? []);
  /**
   * Aggregate cells of one batch, keyed by a number: a string key cost a concat + hash per
   * finding. Ids too large to pack exactly fall back to a string key.
   */
  type Cells = Map<number | string, number[]>;
  /** kinds and categories are closed vocabularies (tens of ids); a party id can be anything. */
  const cellKey = (partyId: number, categoryId: number, kindId: number): number =>
    categoryId < 1024 && kindId < 1024 ? (partyId * 1024 + categoryId) * 1024 + kindId : -1;

  const writeOne = (item: RecordItem, summary: Cells, timeline: Cells): void => {
    const { exchange: ex, audit } = item;
    const c = audit?.classification ?? null;
    const all = audit?.findings ?? [];
    // findings_v numbers a finding exchange_id * FINDING_ID_SPAN + n: no rule pack comes near it.
    const findings = all.length < FINDING_ID_SPAN ? all : all.slice(0, FINDING_ID_SPAN - 1);
    const scrub = opts.redact ? scrubberFor(scrubTexts(ex.request, findings)) : identity;
    const req = ex.request;
    const path = scrub(req.path);
    const url = scrub(req.url);
    const partyId = partyOf(c?.party);
    const categoryId = categoryOf(c?.category);
    const t = ex.startedAt;
    const outcome = outcomeOf(ex.decision, audit);
    const p = exchangeRows.params;
    p.push(ex.id, t, Math.max(0, ex.endedAt - t), opts.sessionId,
      typeOf(ex.kind), clientOf(ex.client.address), req.method, req.scheme,
      hostOf(scrub(req.host)), req.port, path,
      url === rebuildUrl(req.scheme, req.host, req.port, path) ? null : url,
      ex.response?.status ?? null, errorOf(ex.error?.code), ruleOf(outcome.rule),
      partyId, categoryId, severityOf(audit?.severity ?? 'none'),
      verdictOf(outcome.verdict), audit?.firstParty ? 1 : 0, findings.length);
    exchangeRows.end();
    for (let n = 0; n < findings.length; n++) {
      const f = findings[n]!;
      const valueId = values.id(f.value, () => ({
        hash: keyedHash(opts.redactKey, f.value),
        shown: opts.redact ? maskValue(f.kind, f.value) : f.value,
        redacted: opts.redact,
      }));
      const kindId = kindOf(f.kind);
      findingRows.params.push(ex.id, n, kindId, valueId, whereOf(opts.redact ? scrub(f.where) : f.where), methodOf(f.method));
      findingRows.end();
      const packed = cellKey(partyId, categoryId, kindId);
      const k = packed >= 0 ? packed : `${partyId},${categoryId},${kindId}`;
      const s = summary.get(k);
      if (s) { s[3]! += 1; if (t < s[4]!) s[4] = t; if (t > s[5]!) s[5] = t; }
      else summary.set(k, [partyId, categoryId, kindId, 1, t, t]);
    }
    const minute = Math.floor(t / 60000);
    // Exact while party ids stay below 2^21 (minutes are ~2^25 for centuries): else a string key.
    const tkey: number | string = partyId < 2_097_152 ? minute * 2_097_152 + partyId : `${minute},${partyId}`;
    const tl = timeline.get(tkey);
    if (tl) { tl[2]! += 1; tl[3]! += findings.length; }
    else timeline.set(tkey, [minute, partyId, 1, findings.length]);

    // Fields one by one rather than spreads: the object is built once per exchange.
    const details: { -readonly [K in keyof Details]: Details[K] } = { l: ex.listener, hv: req.httpVersion, qh: req.headers, qs: req.body.size };
    const res = ex.response;
    if (res) { details.sm = res.statusMessage; details.sh = res.headers; details.ss = res.body.size; }
    const ws = ex.websocket;
    if (ws) details.ws = { c: ws.connectionId, d: ws.direction, b: ws.binary, n: ws.data.size };
    if (ex.error) details.em = ex.error.message;
    if (audit && audit.notes.length > 0) details.n = audit.notes;
    if (ex.tls) details.tls = ex.tls;
    if (ex.decision) details.ap = ex.decision;
    if (ex.meta) details.m = ex.meta;
    detailRows.params.push(ex.id, packDetails(JSON.stringify(opts.redact ? scrubDeep(details, scrub) : details)));
    detailRows.end();
    if (keepsBodies(opts, findings.length)) {
      putBody(ex.id, PART_REQUEST, req.body);
      putBody(ex.id, PART_RESPONSE, res?.body);
      putBody(ex.id, PART_WEBSOCKET, ws?.data);
    }
  };

  const writeBatch = db.transaction((items: readonly RecordItem[]) => {
    const summary: Cells = new Map();
    const timeline: Cells = new Map();
    for (const item of items) writeOne(item, summary, timeline);
    exchangeRows.flush();
    findingRows.flush();
    detailRows.flush();
    bodyRows.flush();
    for (const s of summary.values()) upSummary.run(opts.sessionId, s[0], s[1], s[2], s[3], s[4], s[5]);
    for (const t of timeline.values()) upTimeline.run(t[0], opts.sessionId, t[1], t[2], t[3]);
  });
  // Another connection (a `leakwatch purge` run) may delete interned values: when the file changed
  // under us, the id caches cannot be trusted. Prepared once: db.pragma() compiles a statement per call.
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  let seen = '';
  return (items) => {
    const now = `${dataVersion.get() as number}/${store.epoch}`;
    if (now !== seen) {
      intern.reset();
      values.reset();
      blobs.reset();
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
      blobs.reset();
      throw err;
    }
  };
}
