/**
 * The read side of the privacy report and the session diff: aggregates in SQL (one pass over the
 * findings, one over the exchanges), so a store of a million findings is reported in bounded
 * memory. Only the few evidence exchanges per party and a sample of User-Agent headers are read
 * row by row. Read-only: nothing here writes.
 *
 * Whether a finding was sent, answered or prevented depends on what happened to its exchange:
 * - answered: found in the response (or in a WebSocket message from the server);
 * - prevented: leakwatch stopped it in enforce mode: block, neutralize, a hold that ended in a deny,
 *   or a strip that removed that very field;
 * - sent: the rest, when the exchange reached the origin (observe-mode `would-*` verdicts did).
 * The three are exclusive; a request finding of an exchange that failed before reaching the origin
 * is none of them (counted in `total` only).
 */
import { unpackDetails } from './blobs.js';
import type { Store } from './db.js';
import { createQueries } from './queries.js';
import type { FlowDetail, SessionRow } from './types.js';

/** Which exchanges a report covers. Absent fields do not filter. */
export interface ReportScope {
  readonly sessions?: readonly number[];
  /** Inclusive lower / exclusive upper bound on the exchange's start time (ms). */
  readonly since?: number;
  readonly until?: number;
}

/** Exchanges of one (party, host, type, rule) cell. */
export interface GroupRow {
  readonly party: string | null;
  readonly host: string;
  readonly type: string;
  readonly rule: string | null;
  readonly category: string | null;
  readonly severity: string;
  readonly exchanges: number;
  /** Exchanges that reached the origin (not blocked, neutralized, denied, nor failed before it). */
  readonly reached: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

export type Bucket = 'sent' | 'answered' | 'prevented' | 'failed';

/** Findings of one (party, host, kind, severity, bucket) cell. */
export interface KindRow {
  readonly party: string | null;
  readonly host: string;
  readonly kind: string;
  readonly severity: string;
  readonly bucket: Bucket;
  readonly count: number;
}

export interface ClientRow {
  readonly party: string | null;
  readonly host: string;
  readonly client: string;
  readonly exchanges: number;
}

export interface ErrorRow {
  readonly host: string;
  readonly party: string | null;
  readonly client: string;
  readonly error: string | null;
  readonly count: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

export interface ScopeTotals {
  readonly exchanges: number;
  readonly findings: number;
  readonly firstSeen: number | null;
  readonly lastSeen: number | null;
  /** Exchanges per verdict (the capture's mode shows in them). */
  readonly verdicts: Readonly<Record<string, number>>;
}

export interface ReportQueries {
  /** A session by name, else by numeric id. */
  session(ref: string): SessionRow | null;
  sessions(): SessionRow[];
  totals(scope: ReportScope): ScopeTotals;
  groups(scope: ReportScope): GroupRow[];
  kinds(scope: ReportScope): KindRow[];
  clients(scope: ReportScope): ClientRow[];
  /** TLS failures, per host, client and error code. */
  tlsFailures(scope: ReportScope): ErrorRow[];
  /** User-Agent header values of up to `limit` exchanges of a party's hosts (newest first). */
  userAgents(scope: ReportScope, party: string | null, hosts: readonly string[], limit: number): string[];
  /** The `n` exchanges of a party's hosts with the most findings (ties: oldest first). */
  evidence(scope: ReportScope, party: string | null, hosts: readonly string[], n: number): FlowDetail[];
}

/**
 * Exchanges a report looks at: own-homeserver traffic that no rule describes is not a third
 * party's business; a rule on it (first-party-exposure) is.
 */
function scopeSql(scope: ReportScope): { sql: string; args: number[] } {
  const where = ['NOT (e.first_party = 1 AND e.rule_id = 0)'];
  const args: number[] = [];
  if (scope.sessions && scope.sessions.length > 0) {
    where.push(`e.session_id IN (${scope.sessions.map(() => '?').join(',')})`);
    args.push(...scope.sessions);
  }
  if (scope.since !== undefined) (where.push('e.time >= ?'), args.push(scope.since));
  if (scope.until !== undefined) (where.push('e.time < ?'), args.push(scope.until));
  return { sql: where.join(' AND '), args };
}

/** `addresses[*]` -> a RegExp source matching `addresses[3]` and what is under it. */
function pathPattern(path: string): string {
  return path
    .split(/(\[\*\]|\*)/)
    .map((p) => (p === '[*]' ? '\\[\\d+\\]' : p === '*' ? '[^.\\[]+' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
}

/**
 * Did a strip remove the field a finding was found in? The strip's detail names what it removed:
 * `stripped headers Referer, Origin; query utm_source; json a.b; known entries of addresses[*]`.
 */
export function strippedField(detail: string, where: string, method: string): boolean {
  if (!detail.startsWith('stripped ')) return false;
  const ws = /^stripped (\d+) values? from this message$/.exec(detail);
  if (ws) return Number(ws[1]) > 0 && where.startsWith('websocket.data');
  for (const part of detail.slice('stripped '.length).split('; ')) {
    const sp = part.indexOf(' ');
    const what = part.slice(0, sp);
    const names = part.slice(sp + 1).split(', ');
    if (what === 'headers' && where.startsWith('request.header.')) {
      const h = where.slice('request.header.'.length).split(/[.#[]/)[0]!.toLowerCase();
      if (names.some((n) => n.toLowerCase() === h)) return true;
    } else if (what === 'query' && where.startsWith('request.query.')) {
      const q = where.slice('request.query.'.length).split(/[.#[]/)[0]!;
      if (names.includes(q)) return true;
    } else if (what === 'json' || part.startsWith('known entries of ')) {
      const paths = what === 'json' ? names : part.slice('known entries of '.length).split(', ');
      if (what !== 'json' && !method.startsWith('known-value')) continue;
      for (const p of paths) {
        if (new RegExp(`^(request\\.body|websocket\\.data)\\.${pathPattern(p)}(?:$|[.#[])`).test(where)) return true;
      }
    }
  }
  return false;
}

export function createReportQueries(store: Store): ReportQueries {
  const { db, intern } = store;
  const base = createQueries(store);
  const idOf = (table: 'verdicts' | 'types', name: string): number => intern.lookup(table, name) ?? -1;
  const V = {
    block: idOf('verdicts', 'block'),
    neutralize: idOf('verdicts', 'neutralize'),
    hold: idOf('verdicts', 'hold'),
    strip: idOf('verdicts', 'strip'),
  };
  const T = { http: idOf('types', 'http'), websocket: idOf('types', 'websocket') };

  // SQLite cannot run a second statement on this connection from inside a function called by a
  // running query, so what the functions need from the details blobs is read first, for the rare
  // exchanges whose outcome depends on it: holds and strips (their applied detail), and
  // WebSocket messages with findings (their direction).
  let applied = new Map<number, string>();
  let received = new Set<number>();
  let prepared = '';
  const prepare = (scope: ReportScope): void => {
    // groups() and kinds() of one report share the scope: read the details once.
    const key = JSON.stringify(scope);
    if (key === prepared) return;
    prepared = key;
    const s = scopeSql(scope);
    applied = new Map();
    received = new Set();
    const rows = db.prepare(`SELECT e.id, e.verdict_id AS v, d.data FROM exchanges e JOIN details d ON d.exchange_id = e.id
      WHERE ${s.sql} AND (e.verdict_id IN (?, ?) OR (e.type_id = ? AND e.finding_count > 0))`)
      .iterate(...s.args, V.hold, V.strip, T.websocket) as IterableIterator<{ id: number; v: number; data: Buffer }>;
    for (const r of rows) {
      const d = unpackDetails(r.data);
      const ap = d?.ap as { detail?: unknown } | undefined;
      if ((r.v === V.hold || r.v === V.strip) && typeof ap?.detail === 'string') applied.set(r.id, ap.detail);
      if (d?.ws?.d === 'receive') received.add(r.id);
    }
  };
  const stopped = (id: number, verdict: number): boolean =>
    verdict === V.block || verdict === V.neutralize || (verdict === V.hold && (applied.get(id) ?? '').startsWith('held, then denied'));
  const reached = (id: number, verdict: number, type: number, status: number | null, error: number): boolean =>
    !stopped(id, verdict) && !((type === T.http || type === T.websocket) && status === null && error !== 0);

  db.function('lw_reached', { deterministic: true }, (id, verdict, type, status, error) =>
    reached(id as number, verdict as number, type as number, status as number | null, error as number) ? 1 : 0);
  const BUCKET: Bucket[] = ['sent', 'answered', 'prevented', 'failed'];
  db.function('lw_bucket', { deterministic: true }, (id, verdict, type, status, error, where, method) => {
    const eid = id as number;
    const w = where as string;
    if (w.startsWith('response.') || received.has(eid)) return 1;
    if (stopped(eid, verdict as number)) return 2;
    if (verdict === V.strip && strippedField(applied.get(eid) ?? '', w, method as string)) return 2;
    return reached(eid, verdict as number, type as number, status as number | null, error as number) ? 0 : 3;
  });

  const hostIds = (hosts: readonly string[]): number[] => hosts.map((h) => intern.lookup('hosts', h)).filter((x): x is number => x !== undefined);
  const partyClause = (party: string | null): { sql: string; args: number[] } => {
    if (party === null) return { sql: 'e.party_id = 0', args: [] };
    return { sql: 'e.party_id = ?', args: [intern.lookup('parties', party) ?? -1] };
  };

  const name = (t: Parameters<typeof intern.name>[0], id: number): string | null => intern.name(t, id);

  return {
    session(ref) {
      const all = base.sessions();
      return all.find((s) => s.name === ref) ?? (/^\d+$/.test(ref) ? all.find((s) => s.id === Number(ref)) : undefined) ?? null;
    },
    sessions: () => base.sessions(),
    totals(scope) {
      const s = scopeSql(scope);
      const t = db.prepare(`SELECT count(*) AS x, coalesce(sum(finding_count), 0) AS f, min(time) AS o, max(time) AS n FROM exchanges e WHERE ${s.sql}`)
        .get(...s.args) as { x: number; f: number; o: number | null; n: number | null };
      const verdicts: Record<string, number> = {};
      for (const r of db.prepare(`SELECT verdict_id AS v, count(*) AS c FROM exchanges e WHERE ${s.sql} GROUP BY verdict_id`).all(...s.args) as Array<{ v: number; c: number }>) {
        verdicts[name('verdicts', r.v) ?? 'allow'] = r.c;
      }
      return { exchanges: t.x, findings: t.f, firstSeen: t.o, lastSeen: t.n, verdicts };
    },
    groups(scope) {
      prepare(scope);
      const s = scopeSql(scope);
      const rows = db.prepare(`SELECT party_id, host_id, type_id, rule_id, category_id, max(severity_id) AS sev, count(*) AS c,
          sum(lw_reached(id, verdict_id, type_id, status, error_id)) AS r, min(time) AS o, max(time) AS n
        FROM exchanges e WHERE ${s.sql} GROUP BY party_id, host_id, type_id, rule_id, category_id`).all(...s.args) as Array<Record<string, number>>;
      // Severity ids are interned in vocabulary order (seedVocabularies), so max() is the worst.
      return rows.map((r) => ({
        party: name('parties', r['party_id']!),
        host: name('hosts', r['host_id']!) ?? '',
        type: name('types', r['type_id']!) ?? 'http',
        rule: name('rules', r['rule_id']!),
        category: name('categories', r['category_id']!),
        severity: name('severities', r['sev']!) ?? 'none',
        exchanges: r['c']!,
        reached: r['r']!,
        firstSeen: r['o']!,
        lastSeen: r['n']!,
      }));
    },
    kinds(scope) {
      prepare(scope);
      const s = scopeSql(scope);
      const rows = db.prepare(`SELECT e.party_id, e.host_id, f.kind_id, e.severity_id,
          lw_bucket(e.id, e.verdict_id, e.type_id, e.status, e.error_id, w.name, m.name) AS b, count(*) AS c
        FROM findings f JOIN exchanges e ON e.id = f.exchange_id JOIN wheres_by_id w ON w.id = f.where_id
          JOIN fmethods_by_id m ON m.id = f.method_id WHERE ${s.sql} GROUP BY 1, 2, 3, 4, 5`).all(...s.args) as Array<Record<string, number>>;
      return rows.map((r) => ({
        party: name('parties', r['party_id']!),
        host: name('hosts', r['host_id']!) ?? '',
        kind: name('kinds', r['kind_id']!) ?? 'url',
        severity: name('severities', r['severity_id']!) ?? 'none',
        bucket: BUCKET[r['b']!]!,
        count: r['c']!,
      }));
    },
    clients(scope) {
      const s = scopeSql(scope);
      const rows = db.prepare(`SELECT party_id, host_id, client_id, count(*) AS c FROM exchanges e WHERE ${s.sql}
        GROUP BY party_id, host_id, client_id`).all(...s.args) as Array<Record<string, number>>;
      return rows.map((r) => ({
        party: name('parties', r['party_id']!),
        host: name('hosts', r['host_id']!) ?? '',
        client: name('clients', r['client_id']!) ?? '',
        exchanges: r['c']!,
      }));
    },
    tlsFailures(scope) {
      const s = scopeSql(scope);
      const rows = db.prepare(`SELECT host_id, party_id, client_id, error_id, count(*) AS c, min(time) AS o, max(time) AS n
        FROM exchanges e WHERE ${s.sql} AND type_id = ? GROUP BY host_id, party_id, client_id, error_id`)
        .all(...s.args, idOf('types', 'tls-failure')) as Array<Record<string, number>>;
      return rows.map((r) => ({
        host: name('hosts', r['host_id']!) ?? '',
        party: name('parties', r['party_id']!),
        client: name('clients', r['client_id']!) ?? '',
        error: name('errors', r['error_id']!),
        count: r['c']!,
        firstSeen: r['o']!,
        lastSeen: r['n']!,
      }));
    },
    userAgents(scope, party, hosts, limit) {
      const ids = hostIds(hosts);
      if (ids.length === 0) return [];
      const s = scopeSql(scope);
      const p = partyClause(party);
      const rows = db.prepare(`SELECT d.data FROM exchanges e JOIN details d ON d.exchange_id = e.id
        WHERE ${s.sql} AND ${p.sql} AND e.host_id IN (${ids.map(() => '?').join(',')}) ORDER BY e.id DESC LIMIT ?`)
        .pluck().all(...s.args, ...p.args, ...ids, limit) as Buffer[];
      const out: string[] = [];
      for (const data of rows) {
        const ua = unpackDetails(data)?.qh?.find(([k]) => k.toLowerCase() === 'user-agent')?.[1];
        if (ua) out.push(ua);
      }
      return out;
    },
    evidence(scope, party, hosts, n) {
      const ids = hostIds(hosts);
      if (ids.length === 0 || n <= 0) return [];
      const s = scopeSql(scope);
      const p = partyClause(party);
      const picked = db.prepare(`SELECT e.id FROM exchanges e WHERE ${s.sql} AND ${p.sql} AND e.finding_count > 0
          AND e.host_id IN (${ids.map(() => '?').join(',')}) ORDER BY e.finding_count DESC, e.id LIMIT ?`)
        .pluck().all(...s.args, ...p.args, ...ids, n) as number[];
      return picked.map((id) => base.getFlow(id)).filter((f): f is FlowDetail => f !== null);
    },
  };
}
