/**
 * Export from SQLite, streaming: rows are read in keyset pages (id order) and written with
 * backpressure, so a capture of any size exports in constant memory.
 * - jsonl: one line per exchange, the core/exchange-json.ts shape with id, time, status, session.
 * - har:   HAR 1.2 (core/har.ts), findings in `_leaks`.
 * - csv:   one row per finding; an exchange without findings gets one row with empty finding
 *          columns (so every exchange appears). RFC 4180: CRLF, fields quoted when needed; a text
 *          cell that a spreadsheet would run as a formula starts with an apostrophe.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { toExchangeJson } from '../core/exchange-json.js';
import { toHarEntry } from '../core/har.js';
import { escapeForTerminal, terminalSafeJson } from '../core/terminal.js';
import type { Store } from './db.js';
import { createFlowMapper, FLOW_COLUMNS, type RawFlow } from './flow-rows.js';
import { createQueries } from './queries.js';
import { auditOf, exchangeOf } from './rebuild.js';
import type { FindingRow, FlowRow } from './types.js';

export type ExportFormat = 'jsonl' | 'har' | 'csv';

export interface ExportOptions {
  readonly format: ExportFormat;
  /** Only exchanges that started at or after this time (ms). */
  readonly since?: number;
  readonly sessionId?: number;
  readonly out: Writable;
  readonly pageSize?: number;
  /**
   * `out` is a terminal: CSV cells get their control characters escaped (a file keeps them as
   * captured). JSON is always written with them as `\uXXXX`, which keeps its meaning.
   */
  readonly terminal?: boolean;
}

export const CSV_COLUMNS = ['id', 'time', 'session', 'method', 'url', 'status', 'category', 'party', 'rule', 'severity',
  'verdict', 'kind', 'value', 'where', 'finding_method'] as const;

// A spreadsheet runs a cell that starts with one of these as a formula (`=HYPERLINK(...)` from
// captured traffic would be live): OWASP's rule is a leading apostrophe, and quoting the cell.
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(v: string | number | null | undefined): string {
  if (typeof v === 'number') return String(v);
  const raw = v === null || v === undefined ? '' : v;
  const s = FORMULA_START.test(raw) ? `'${raw}` : raw;
  return s !== raw || /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

async function put(out: Writable, s: string): Promise<void> {
  if (!out.write(s)) await once(out, 'drain');
}

function csvRows(r: FlowRow, fs: readonly FindingRow[], terminal: boolean): string {
  const head = [r.id, new Date(r.time).toISOString(), r.session, r.method, r.url, r.status, r.category, r.party, r.rule, r.severity, r.verdict];
  const tails: Array<Array<string | null>> = fs.length ? fs.map((f) => [f.kind, f.value, f.where, f.method]) : [[null, null, null, null]];
  const cell = terminal ? (v: string | number | null): string => csvField(typeof v === 'string' ? escapeForTerminal(v) : v) : csvField;
  return tails.map((t) => [...head, ...t].map(cell).join(',') + '\r\n').join('');
}

/** Writes the export to `out` (not ended). Returns the number of exchanges written. */
export async function exportStore(store: Store, opts: ExportOptions): Promise<number> {
  const { db } = store;
  const toRow = createFlowMapper(store);
  const queries = createQueries(store);
  const where = ['e.id > ?'];
  const args: number[] = [];
  if (opts.since !== undefined) (where.push('e.time >= ?'), args.push(opts.since));
  if (opts.sessionId !== undefined) (where.push('e.session_id = ?'), args.push(opts.sessionId));
  const page = db.prepare(`SELECT ${FLOW_COLUMNS} FROM exchanges e WHERE ${where.join(' AND ')} ORDER BY e.id LIMIT ?`);
  const findingsOf = db.prepare(`SELECT exchange_id, kind, value, redacted, hash, "where", method FROM findings_v
    WHERE exchange_id IN (SELECT value FROM json_each(?)) ORDER BY id`);
  const { out, format } = opts;

  if (format === 'csv') await put(out, CSV_COLUMNS.join(',') + '\r\n');
  if (format === 'har') await put(out, '{"log":{"version":"1.2","creator":{"name":"leakwatch","version":"0.1.0"},"entries":[');
  let last = 0;
  let n = 0;
  for (;;) {
    const rows = (page.all(last, ...args, opts.pageSize ?? 500) as RawFlow[]).map(toRow);
    if (rows.length === 0) break;
    last = rows[rows.length - 1]!.id;
    const byExchange = new Map<number, FindingRow[]>();
    const fs = findingsOf.all(JSON.stringify(rows.map((r) => r.id))) as Array<Omit<FindingRow, 'redacted'> & { exchange_id: number; redacted: number }>;
    for (const f of fs) {
      const list = byExchange.get(f.exchange_id) ?? [];
      const { exchange_id: _x, ...rest } = f;
      list.push({ ...rest, redacted: f.redacted === 1 });
      byExchange.set(f.exchange_id, list);
    }
    let chunk = '';
    for (const r of rows) {
      const found = byExchange.get(r.id) ?? [];
      if (format === 'jsonl') {
        chunk += terminalSafeJson(JSON.stringify(toExchangeJson({ id: r.id, time: r.time, session: r.session, method: r.method, url: r.url,
          status: r.status, audit: auditOf(r, found), outcome: { rule: r.rule, verdict: r.verdict } }))) + '\n';
      } else if (format === 'csv') {
        chunk += csvRows(r, found, opts.terminal === true);
      } else {
        const d = queries.getFlow(r.id);
        if (!d) continue;
        chunk += (n > 0 ? ',' : '') + terminalSafeJson(JSON.stringify(toHarEntry({ exchange: exchangeOf(d), audit: auditOf(d, d.findings, d.notes), session: d.session })));
      }
      n++;
    }
    await put(out, chunk);
  }
  if (format === 'har') await put(out, ']}}\n');
  return n;
}
