/**
 * The read side: every query the dashboard and the CLI need, in one module (no SQL elsewhere).
 * Filters on strings are resolved to interned ids first, so they use the integer indexes.
 */
import { statSync } from 'node:fs';
import type { Category, Kind } from '../core/vocabulary.js';
import { bodyView, PART_REQUEST, PART_RESPONSE, PART_WEBSOCKET, unpackDetails, type BodyRow } from './blobs.js';
import type { Store } from './db.js';
import { createFlowMapper, FLOW_COLUMNS, type RawFlow } from './flow-rows.js';
import { schemaVersion } from './migrations.js';
import type { ExposureCell, Facets, FindingRow, FlowDetail, FlowFilter, FlowRow, SessionRow, StoreHealth, SummaryCell, TimelinePoint } from './types.js';

export interface TimelineQuery {
  readonly since?: number;
  readonly until?: number;
  readonly session?: number;
  /** A multiple of one minute (rounded up to one). Default 60 000. */
  readonly bucketMs?: number;
}

export interface Queries {
  /** Newest first. Page with `before: lastRow.id`. */
  listFlows(filter?: FlowFilter): FlowRow[];
  /** How many flows match (ignoring limit/before), counted up to `cap`: more is reported as `cap`. */
  countFlows(filter?: FlowFilter, cap?: number): number;
  /** Party x host x kind x outcome cells (what each party learned, answered or was prevented from). */
  exposure(opts?: { readonly session?: number }): ExposureCell[];
  /** The names each filter can take, from the store (for the UI's dropdowns). */
  facets(): Facets;
  /** Stored exchanges and TLS failures: what the dashboard polls (cheaper than health()). */
  counts(): { exchanges: number; tlsFailures: number };
  getFlow(id: number): FlowDetail | null;
  /** A WebSocket message's connection, direction and type, without reading its bodies (list rows). */
  wsFacts(id: number): { connectionId: number; direction: 'send' | 'receive'; binary: boolean } | null;
  /** Party x kind cells, most frequent first. */
  summary(opts?: { readonly session?: number }): SummaryCell[];
  /** Flows and leaks per bucket per party, oldest bucket first. */
  timeline(opts?: TimelineQuery): TimelinePoint[];
  /** Newest first. */
  sessions(): SessionRow[];
  health(): StoreHealth;
}

const OUTCOMES = ['sent', 'answered', 'prevented', 'held'] as const;

const likeArg = (q: string): string => `%${q.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
const fileSize = (f: string): number => {
  try {
    return statSync(f).size;
  } catch {
    return 0;
  }
};

export function createQueries(store: Store): Queries {
  const { db, intern } = store;
  const toRow = createFlowMapper(store);
  const one = db.prepare(`SELECT ${FLOW_COLUMNS} FROM exchanges e WHERE e.id = ?`);
  const findings = db.prepare('SELECT kind, value, redacted, hash, "where", method FROM findings_v WHERE exchange_id = ? ORDER BY id');
  const details = db.prepare('SELECT data FROM details WHERE exchange_id = ?').pluck();
  const body = db.prepare('SELECT b.enc, o.size, o.truncated, b.data FROM bodies o JOIN blobs b ON b.id = o.blob_id WHERE o.key = ?');

  /** WHERE clause and arguments of a flow filter; null when a name cannot match anything. */
  // The trigram index answers LIKE only without ESCAPE and for runs of 3+ characters; it is used
  // when it lists fewer than RARE exchanges (probed with a cap, so a common text costs little).
  const RARE = 2000;
  const probe = db.prepare(`SELECT count(*) FROM (SELECT 1 FROM exchanges_text WHERE path LIKE ? OR url LIKE ? LIMIT ${RARE})`).pluck();
  const rareInPaths = (q: string): boolean => q.length >= 3 && !/[\\%_]/.test(q) && (probe.get(`%${q}%`, `%${q}%`) as number) < RARE;

  const filterSql = (f: FlowFilter): { where: string[]; args: unknown[] } | null => {
    const where: string[] = [];
    const args: unknown[] = [];
    const byName = (table: 'hosts' | 'parties' | 'categories' | 'kinds' | 'types' | 'verdicts', name: string | undefined, sql: string): boolean => {
      if (name === undefined) return true;
      const id = intern.lookup(table, name);
      if (id === undefined) return false;
      where.push(sql);
      args.push(id);
      return true;
    };
    if (f.before !== undefined) (where.push('e.id < ?'), args.push(f.before));
    if (f.since !== undefined) (where.push('e.time >= ?'), args.push(f.since));
    if (f.until !== undefined) (where.push('e.time < ?'), args.push(f.until));
    if (f.session !== undefined) (where.push('e.session_id = ?'), args.push(f.session));
    if (!byName('hosts', f.host, 'e.host_id = ?')) return null;
    if (!byName('parties', f.party, 'e.party_id = ?')) return null;
    if (!byName('categories', f.category, 'e.category_id = ?')) return null;
    if (!byName('kinds', f.kind, 'EXISTS (SELECT 1 FROM findings k WHERE k.exchange_id = e.id AND k.kind_id = ?)')) return null;
    if (!byName('types', f.type, 'e.type_id = ?')) return null;
    if (!byName('verdicts', f.verdict, 'e.verdict_id = ?')) return null;
    if (f.q !== undefined && f.q !== '') {
      // Every sub-select is materialized once per query (the string tables are small; the
      // exchanges whose findings hold a matching value come from the findings_value index). Paths
      // and URLs: text few exchanges hold comes from the trigram index (exchanges_text); text many
      // hold is met early walking newest first, where two LIKEs per exchange cost less than
      // listing every match from the index.
      const indexed = rareInPaths(f.q);
      where.push(`(${indexed ? 'e.id IN (SELECT rowid FROM exchanges_text WHERE path LIKE ?1 OR url LIKE ?1)' : "e.path LIKE ?1 ESCAPE '\\' OR (e.url IS NOT NULL AND e.url LIKE ?1 ESCAPE '\\')"}
        OR e.host_id IN (SELECT id FROM hosts_by_id WHERE name LIKE ?1 ESCAPE '\\')
        OR e.party_id IN (SELECT id FROM parties_by_id WHERE name LIKE ?1 ESCAPE '\\')
        OR e.id IN (SELECT q.exchange_id FROM findings q
          WHERE q.value_id IN (SELECT id FROM values_by_id WHERE shown LIKE ?1 ESCAPE '\\')))`.replace(/\?1/g, '?'));
      for (let i = 0; i < 5; i++) args.push(likeArg(f.q));
    }
    return { where, args };
  };
  const whereOf = (w: string[]): string => (w.length ? 'WHERE ' + w.join(' AND ') : '');

  const listFlows = (f: FlowFilter = {}): FlowRow[] => {
    const s = filterSql(f);
    if (!s) return [];
    const limit = Math.max(1, Math.min(1000, Math.floor(f.limit ?? 100)));
    const sql = `SELECT ${FLOW_COLUMNS} FROM exchanges e ${whereOf(s.where)} ORDER BY e.id DESC LIMIT ${limit}`;
    return (db.prepare(sql).all(...s.args) as RawFlow[]).map(toRow);
  };

  const countFlows = (f: FlowFilter = {}, cap = 100_000): number => {
    const { before: _paging, ...all } = f;
    const s = filterSql(all);
    if (!s) return 0;
    const n = Math.max(1, Math.floor(cap));
    return db.prepare(`SELECT count(*) FROM (SELECT 1 FROM exchanges e ${whereOf(s.where)} LIMIT ${n})`).pluck().get(...s.args) as number;
  };

  const exposure = (opts: { readonly session?: number } = {}): ExposureCell[] => {
    const rows = db.prepare(`SELECT party_id, category_id, host_id, kind_id, outcome, sum(count) AS count,
      min(first_seen) AS first, max(last_seen) AS last FROM exposure ${opts.session !== undefined ? 'WHERE session_id = ?' : ''}
      GROUP BY party_id, category_id, host_id, kind_id, outcome HAVING sum(count) > 0`)
      .all(...(opts.session !== undefined ? [opts.session] : [])) as Array<Record<string, number>>;
    return rows.map((r) => ({
      party: intern.name('parties', r['party_id']!),
      category: intern.name('categories', r['category_id']!) as Category | null,
      host: intern.name('hosts', r['host_id']!) ?? '',
      kind: intern.name('kinds', r['kind_id']!) as Kind,
      outcome: OUTCOMES[r['outcome']!] ?? 'sent',
      count: r['count']!,
      firstSeen: r['first']!,
      lastSeen: r['last']!,
    }));
  };

  const names = (table: string, column: string): string[] =>
    db.prepare(`SELECT name FROM ${table}_by_id WHERE id IN (SELECT DISTINCT ${column} FROM exposure UNION SELECT DISTINCT ${column} FROM summary) ORDER BY name`)
      .pluck().all() as string[];
  const facets = (): Facets => ({
    // Parties, categories and kinds come from the aggregates (small), not a scan of exchanges.
    parties: names('parties', 'party_id'),
    categories: names('categories', 'category_id'),
    kinds: names('kinds', 'kind_id'),
    types: db.prepare('SELECT name FROM types_by_id ORDER BY name').pluck().all() as string[],
    verdicts: db.prepare('SELECT name FROM verdicts_by_id ORDER BY name').pluck().all() as string[],
    sessions: sessions(),
  });

  const getFlow = (id: number): FlowDetail | null => {
    const raw = one.get(id) as RawFlow | undefined;
    if (!raw) return null;
    const row = toRow(raw);
    const d = unpackDetails(details.get(id) as Buffer | undefined);
    const part = (p: number) => bodyView(body.get(id * 4 + p) as BodyRow | undefined);
    const fs = (findings.all(id) as Array<Omit<FindingRow, 'redacted' | 'kind'> & { redacted: number; kind: Kind }>)
      .map((f) => ({ ...f, redacted: f.redacted === 1 }));
    return {
      ...row,
      findings: fs,
      listener: d?.l ?? null,
      request: { httpVersion: d?.hv ?? '1.1', headers: d?.qh ?? [], body: part(PART_REQUEST) },
      response: row.status === null ? null : { statusMessage: d?.sm ?? '', headers: d?.sh ?? [], body: part(PART_RESPONSE) },
      websocket: d?.ws ? { connectionId: d.ws.c, direction: d.ws.d, binary: d.ws.b, data: part(PART_WEBSOCKET) } : null,
      errorMessage: d?.em ?? null,
      notes: d?.n ?? [],
      applied: (d?.ap as FlowDetail['applied'] | undefined) ?? null,
      hasDetails: d !== null,
    };
  };

  const wsFacts = (id: number): ReturnType<Queries['wsFacts']> => {
    const ws = unpackDetails(details.get(id) as Buffer | undefined)?.ws;
    return ws ? { connectionId: ws.c, direction: ws.d, binary: ws.b } : null;
  };

  const summary = (opts: { readonly session?: number } = {}): SummaryCell[] => {
    const rows = db.prepare(`SELECT party_id, category_id, kind_id, sum(count) AS count, min(first_seen) AS first,
      max(last_seen) AS last FROM summary ${opts.session !== undefined ? 'WHERE session_id = ?' : ''}
      GROUP BY party_id, category_id, kind_id HAVING sum(count) > 0 ORDER BY count DESC`)
      .all(...(opts.session !== undefined ? [opts.session] : [])) as Array<Record<string, number>>;
    return rows.map((r) => ({
      party: intern.name('parties', r['party_id']!),
      category: intern.name('categories', r['category_id']!) as Category | null,
      kind: intern.name('kinds', r['kind_id']!) as Kind,
      count: r['count']!,
      firstSeen: r['first']!,
      lastSeen: r['last']!,
    }));
  };

  const timeline = (o: TimelineQuery = {}): TimelinePoint[] => {
    const bucket = Math.max(1, Math.ceil((o.bucketMs ?? 60000) / 60000)) * 60000;
    const where: string[] = [];
    const args: number[] = [bucket, bucket];
    if (o.since !== undefined) (where.push('minute >= ?'), args.push(Math.floor(o.since / 60000)));
    if (o.until !== undefined) (where.push('minute < ?'), args.push(Math.ceil(o.until / 60000)));
    if (o.session !== undefined) (where.push('session_id = ?'), args.push(o.session));
    const rows = db.prepare(`SELECT (minute * 60000 / ?) * ? AS t, party_id, sum(flows) AS flows, sum(leaks) AS leaks
      FROM timeline ${where.length ? 'WHERE ' + where.join(' AND ') : ''} GROUP BY t, party_id ORDER BY t, party_id`)
      .all(...args) as Array<Record<string, number>>;
    return rows.map((r) => ({ t: r['t']!, party: intern.name('parties', r['party_id']!), flows: r['flows']!, leaks: r['leaks']! }));
  };

  const sessions = (): SessionRow[] =>
    (db.prepare(`SELECT s.id, s.name, s.started_at AS startedAt,
      (SELECT count(*) FROM exchanges e WHERE e.session_id = s.id) AS flows FROM sessions_by_id s ORDER BY s.id DESC`)
      .all() as SessionRow[]);

  const tlsFailures = (): number => {
    const id = intern.lookup('types', 'tls-failure');
    return id === undefined ? 0 : (db.prepare('SELECT count(*) FROM exchanges WHERE type_id = ?').pluck().get(id) as number);
  };

  const counts = (): { exchanges: number; tlsFailures: number } => ({
    exchanges: db.prepare('SELECT coalesce(sum(flows), 0) FROM timeline').pluck().get() as number,
    tlsFailures: tlsFailures(),
  });

  const health = (): StoreHealth => {
    // From the aggregates, not count(*): the health endpoint is polled, and they are exact.
    const agg = db.prepare('SELECT coalesce(sum(flows), 0) AS x, coalesce(sum(leaks), 0) AS f FROM timeline').get() as { x: number; f: number };
    const span = db.prepare('SELECT min(time) AS o, max(time) AS n FROM exchanges').get() as { o: number | null; n: number | null };
    return {
      schemaVersion: schemaVersion(db),
      exchanges: agg.x,
      findings: agg.f,
      bodies: db.prepare('SELECT count(*) FROM bodies').pluck().get() as number,
      sessions: db.prepare('SELECT count(*) FROM sessions_by_id').pluck().get() as number,
      oldest: span.o,
      newest: span.n,
      tlsFailures: tlsFailures(),
      fileBytes: fileSize(store.file),
      walBytes: fileSize(store.file + '-wal'),
    };
  };

  return { listFlows, countFlows, exposure, facets, counts, getFlow, wsFacts, summary, timeline, sessions, health };
}
