/**
 * The real store behind the dashboard's DataSource: maps store/queries.ts rows (epoch ms, numeric
 * session ids, findings apart) onto the dashboard's shapes. The only file that knows the store.
 */
import { getDomain } from 'tldts';
import { toHarEntry } from '../core/har.js';
import { isCategory, isKind } from '../core/vocabulary.js';
import { csvField } from '../store/export.js';
import { auditOf, exchangeOf } from '../store/rebuild.js';
import type { Queries } from '../store/queries.js';
import type { FlowFilter, FlowRow, FlowDetail as StoreFlowDetail } from '../store/types.js';
import { toBodyView } from './body-view.js';
import type { DataSource, ExportFormat, FlowDetail, FlowItem, FlowQuery, RecorderStats, WsMessageView } from './data-source.js';

/** Registrable domain (public suffix list); hosts without one (IPs, localhost) stand for themselves. */
export function domainOf(host: string): string {
  return getDomain(host, { allowPrivateDomains: true }) ?? host;
}

/** Export columns: the CLI's CSV plus what the dashboard shows (type, error). */
const CSV_HEAD = ['id', 'time', 'session', 'type', 'method', 'url', 'status', 'error', 'error_message', 'category', 'party',
  'rule', 'severity', 'verdict', 'kind', 'value', 'where', 'finding_method'];

const PAGE = 1000;
const WS_SIBLINGS = 100;
/** Export pages are small: each is written between turns of the event loop the proxy shares. */
const EXPORT_PAGE = 200;

export function flowItemFromRow(r: FlowRow, leaks: FlowItem['leaks'] = []): FlowItem {
  return {
    id: r.id,
    time: new Date(r.time).toISOString(),
    session: r.session,
    method: r.method,
    url: r.url,
    status: r.status,
    category: r.category,
    party: r.party,
    rule: r.rule,
    severity: r.severity,
    verdict: r.verdict,
    leaks,
    client: r.client,
    host: r.host,
    path: r.path,
    kinds: r.kinds,
    type: r.type,
    firstParty: r.firstParty,
    durationMs: r.durationMs,
    error: r.error,
  };
}

export function storeDataSource(queries: Queries, recorder: { stats(): RecorderStats }): DataSource {
  /** Dashboard filters -> store filter; null when a value cannot match anything. */
  const toFilter = (q: FlowQuery): FlowFilter | null => {
    const f: { -readonly [K in keyof FlowFilter]: FlowFilter[K] } = {};
    if (q.limit !== undefined) f.limit = q.limit;
    if (q.before !== undefined) f.before = q.before;
    if (q.since !== undefined) f.since = q.since;
    if (q.until !== undefined) f.until = q.until;
    if (q.party !== undefined) f.party = q.party;
    if (q.host !== undefined) f.host = q.host;
    if (q.q !== undefined) f.q = q.q;
    if (q.type !== undefined) f.type = q.type;
    if (q.verdict !== undefined) f.verdict = q.verdict;
    if (q.category !== undefined) {
      if (!isCategory(q.category)) return null;
      f.category = q.category;
    }
    if (q.kind !== undefined) {
      if (!isKind(q.kind)) return null;
      f.kind = q.kind;
    }
    if (q.session !== undefined) {
      const id = sessionId(q.session);
      if (id === undefined) return null;
      f.session = id;
    }
    return f;
  };

  /** Sessions are given by id or by name. */
  const sessionId = (s: string): number | undefined => {
    if (/^\d+$/.test(s)) return Number(s);
    return queries.sessions().find((x) => x.name === s)?.id;
  };

  const wsSiblings = (d: StoreFlowDetail): WsMessageView[] => {
    if (!d.websocket) return [];
    const conn = d.websocket.connectionId;
    // Messages of one connection share the host and have nearby ids; rows do not carry the
    // connection id, so look at the neighbourhood and keep the ones that match.
    const rows = queries.listFlows({ host: d.host, before: d.id + 500, limit: 400 }).filter((r) => r.type === 'websocket');
    const out: WsMessageView[] = [];
    for (const r of rows) {
      const m = r.id === d.id ? d : queries.getFlow(r.id);
      if (!m?.websocket || m.websocket.connectionId !== conn) continue;
      const view = toBodyView(m.websocket.data, []);
      out.push({
        id: m.id,
        time: new Date(m.time).toISOString(),
        direction: m.websocket.direction,
        binary: m.websocket.binary,
        text: view?.text ?? null,
        size: view?.size ?? 0,
        kinds: m.kinds,
      });
      if (out.length >= WS_SIBLINGS) break;
    }
    return out.sort((a, b) => a.id - b.id);
  };

  return {
    listFlows(q) {
      const f = toFilter(q);
      if (!f) return [];
      return queries.listFlows(f).map((r) => {
        const item = flowItemFromRow(r);
        // A WebSocket message's direction and type sit in its details: read for those rows only.
        const ws = r.type === 'websocket' ? queries.wsFacts(r.id) : null;
        return ws ? { ...item, ...ws } : item;
      });
    },

    getFlow(id): FlowDetail | undefined {
      const d = queries.getFlow(id);
      if (!d) return undefined;
      const leaks = d.findings.map((x) => ({ kind: x.kind, value: x.value, where: x.where, method: x.method }));
      const ws = d.websocket;
      return {
        flow: { ...flowItemFromRow(d, leaks), connectionId: ws?.connectionId ?? null, direction: ws?.direction ?? null, binary: ws?.binary ?? null },
        request: {
          headers: d.request.headers,
          body: ws ? toBodyView(ws.data, []) : toBodyView(d.request.body, d.request.headers),
        },
        response: d.response ? { headers: d.response.headers, body: toBodyView(d.response.body, d.response.headers) } : null,
        notes: [
          ...(d.applied ? [`leakwatch ${d.applied.verdict}${d.applied.ruleId ? ` (${d.applied.ruleId})` : ''}${d.applied.detail ? `: ${d.applied.detail}` : ''}`] : []),
          ...d.notes,
          ...(d.errorMessage ? [`${d.error ?? 'error'}: ${d.errorMessage}`] : [])],
        websocket: ws ? { connectionId: ws.connectionId, messages: wsSiblings(d) } : null,
      };
    },

    flowsAfter(afterId, limit) {
      // The store pages newest first; walk back until we pass afterId or have enough.
      const out: FlowItem[] = [];
      let before: number | undefined;
      for (;;) {
        const page = queries.listFlows(before === undefined ? { limit: PAGE } : { limit: PAGE, before });
        for (const r of page) {
          if (r.id <= afterId || out.length >= limit) return out.reverse();
          out.push(flowItemFromRow(r));
        }
        if (page.length < PAGE) return out.reverse();
        before = page[page.length - 1]!.id;
      }
    },

    summary(q) {
      const id = q.session !== undefined ? sessionId(q.session) : undefined;
      if (q.session !== undefined && id === undefined) return [];
      return queries.summary(id === undefined ? {} : { session: id });
    },

    timeline(q) {
      const id = q.session !== undefined ? sessionId(q.session) : undefined;
      if (q.session !== undefined && id === undefined) return [];
      const points = queries.timeline({ since: q.since, until: q.until, bucketMs: q.bucketMs, ...(id === undefined ? {} : { session: id }) });
      return points.map((p) => ({ t: p.t, party: p.party, requests: p.flows, leaks: p.leaks }));
    },

    sessions: () => queries.sessions(),
    recorderStats: () => recorder.stats(),

    countFlows(q, cap) {
      const f = toFilter(q);
      return f ? queries.countFlows(f, cap) : 0;
    },

    exposure(q) {
      const id = q.session !== undefined ? sessionId(q.session) : undefined;
      if (q.session !== undefined && id === undefined) return [];
      const domains = new Map<string, string>();
      return queries.exposure(id === undefined ? {} : { session: id }).map((c) => {
        let domain = domains.get(c.host);
        if (domain === undefined) domains.set(c.host, (domain = domainOf(c.host)));
        return { ...c, domain };
      });
    },

    facets: () => queries.facets(),

    storeCounts: () => queries.counts(),

    *exportFlows(q, format: ExportFormat, max) {
      const f = toFilter({ ...q, limit: Math.min(EXPORT_PAGE, max) });
      if (format === 'csv') yield CSV_HEAD.join(',') + '\r\n';
      if (format === 'har') yield '{"log":{"version":"1.2","creator":{"name":"leakwatch","version":"0.1.0"},"entries":[';
      let n = 0;
      let before = q.before;
      while (f && n < max) {
        const page = queries.listFlows(before === undefined ? f : { ...f, before });
        if (page.length === 0) break;
        let chunk = '';
        for (const r of page) {
          if (n >= max) break;
          const d = queries.getFlow(r.id);
          if (!d) continue;
          if (format === 'har') {
            chunk += (n > 0 ? ',' : '') + JSON.stringify({
              ...toHarEntry({ exchange: exchangeOf(d), audit: auditOf(d, d.findings, d.notes), session: d.session }),
              _type: d.type, ...(d.error ? { _error: { code: d.error, message: d.errorMessage ?? '' } } : {}),
            });
          } else if (format === 'jsonl') {
            chunk += JSON.stringify({ id: d.id, time: new Date(d.time).toISOString(), session: d.session, type: d.type,
              method: d.method, url: d.url, status: d.status, error: d.error, errorMessage: d.errorMessage,
              category: d.category, party: d.party, rule: d.rule, severity: d.severity, verdict: d.verdict,
              leaks: d.findings.map((x) => ({ kind: x.kind, value: x.value, where: x.where, method: x.method })) }) + '\n';
          } else {
            const head = [d.id, new Date(d.time).toISOString(), d.session, d.type, d.method, d.url, d.status, d.error, d.errorMessage,
              d.category, d.party, d.rule, d.severity, d.verdict];
            const tails = d.findings.length ? d.findings.map((x) => [x.kind, x.value, x.where, x.method]) : [[null, null, null, null]];
            for (const t of tails) chunk += [...head, ...t].map(csvField).join(',') + '\r\n';
          }
          n++;
        }
        yield chunk;
        before = page[page.length - 1]!.id;
      }
      if (format === 'har') yield ']}}\n';
    },
  };
}
