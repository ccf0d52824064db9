/**
 * The real store behind the dashboard's DataSource: maps store/queries.ts rows (epoch ms, numeric
 * session ids, findings apart) onto the dashboard's shapes. The only file that knows the store.
 */
import { isCategory, isKind } from '../core/vocabulary.js';
import type { Queries } from '../store/queries.js';
import type { FlowFilter, FlowRow, FlowDetail as StoreFlowDetail } from '../store/types.js';
import { toBodyView } from './body-view.js';
import type { DataSource, FlowDetail, FlowItem, FlowQuery, RecorderStats, WsMessageView } from './data-source.js';

const PAGE = 1000;
const WS_SIBLINGS = 100;

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
      return f ? queries.listFlows(f).map((r) => flowItemFromRow(r)) : [];
    },

    getFlow(id): FlowDetail | undefined {
      const d = queries.getFlow(id);
      if (!d) return undefined;
      const leaks = d.findings.map((x) => ({ kind: x.kind, value: x.value, where: x.where, method: x.method }));
      const ws = d.websocket;
      return {
        flow: { ...flowItemFromRow(d, leaks), connectionId: ws?.connectionId ?? null, direction: ws?.direction ?? null },
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
  };
}
