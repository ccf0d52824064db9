/**
 * Turning raw `exchanges` rows (integers) into FlowRow values (strings), with the interner's
 * cached names. Shared by the flow list, the flow detail and the exporters.
 */
import type { ExchangeKind } from '../core/exchange.js';
import { KINDS, type Category, type Kind, type Severity, type Verdict } from '../core/vocabulary.js';
import type { Store } from './db.js';
import type { FlowRow } from './types.js';
import { rebuildUrl } from './write.js';

/** The columns every flow query selects (e = exchanges). */
export const FLOW_COLUMNS = `e.id, e.time, e.duration, e.session_id, e.type_id, e.client_id, e.method, e.scheme,
  e.host_id, e.port, e.path, e.url, e.status, e.error_id, e.rule_id, e.party_id, e.category_id, e.severity_id,
  e.verdict_id, e.first_party, e.finding_count,
  (SELECT group_concat(DISTINCT f.kind_id) FROM findings f WHERE f.exchange_id = e.id) AS kind_ids`;

export interface RawFlow {
  readonly id: number;
  readonly time: number;
  readonly duration: number;
  readonly session_id: number;
  readonly type_id: number;
  readonly client_id: number;
  readonly method: string;
  readonly scheme: string;
  readonly host_id: number;
  readonly port: number;
  readonly path: string;
  readonly url: string | null;
  readonly status: number | null;
  readonly error_id: number;
  readonly rule_id: number;
  readonly party_id: number;
  readonly category_id: number;
  readonly severity_id: number;
  readonly verdict_id: number;
  readonly first_party: number;
  readonly finding_count: number;
  readonly kind_ids: string | null;
}

const kindOrder = (k: string): number => (KINDS as readonly string[]).indexOf(k);

export function createFlowMapper(store: Store): (r: RawFlow) => FlowRow {
  const { intern, db } = store;
  const sessionName = db.prepare('SELECT name FROM sessions_by_id WHERE id = ?').pluck();
  const sessions = new Map<number, string | null>();
  const session = (id: number): string | null => {
    if (id === 0) return null;
    if (!sessions.has(id)) sessions.set(id, (sessionName.get(id) as string | undefined) ?? null);
    return sessions.get(id)!;
  };
  return (r) => {
    const host = intern.name('hosts', r.host_id) ?? '';
    const kinds = (r.kind_ids ? r.kind_ids.split(',') : [])
      .map((k) => intern.name('kinds', Number(k)))
      .filter((k): k is string => k !== null)
      .sort((a, b) => kindOrder(a) - kindOrder(b)) as Kind[];
    return {
      id: r.id,
      time: r.time,
      durationMs: r.duration,
      sessionId: r.session_id === 0 ? null : r.session_id,
      session: session(r.session_id),
      type: (intern.name('types', r.type_id) ?? 'http') as ExchangeKind,
      client: intern.name('clients', r.client_id) ?? '',
      method: r.method,
      url: r.url ?? rebuildUrl(r.scheme, host, r.port, r.path),
      host,
      path: r.path,
      status: r.status,
      error: intern.name('errors', r.error_id),
      category: intern.name('categories', r.category_id) as Category | null,
      party: intern.name('parties', r.party_id),
      rule: intern.name('rules', r.rule_id),
      severity: (intern.name('severities', r.severity_id) ?? 'none') as Severity,
      verdict: (intern.name('verdicts', r.verdict_id) ?? 'allow') as Verdict,
      kinds,
      leakCount: r.finding_count,
      firstParty: r.first_party === 1,
    };
  };
}
