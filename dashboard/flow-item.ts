/**
 * Turns an audited exchange (what the pipeline carries) into the FlowItem the stream and the Live
 * table use: core/exchange-json's shape plus client/host/path/kinds. Pure, so the hub can call it
 * at flush time rather than on the proxy's turn of the event loop.
 */
import type { PipelineItem } from '../core/pipeline.js';
import { toExchangeJson } from '../core/exchange-json.js';
import type { FlowItem } from './data-source.js';

export function toFlowItem(item: PipelineItem): FlowItem {
  const ex = item.exchange;
  const json = toExchangeJson({
    id: ex.id,
    time: ex.startedAt,
    session: null,
    method: ex.request.method,
    url: ex.request.url,
    status: ex.response?.status ?? null,
    audit: item.audit,
  });
  const kinds = [...new Set(json.leaks.map((l) => l.kind))].sort();
  return {
    id: ex.id,
    time: json.time ?? new Date(ex.startedAt).toISOString(),
    session: null,
    method: json.method,
    url: json.url,
    status: json.status ?? null,
    category: json.category,
    party: json.party,
    rule: json.rule ?? ex.applied?.ruleId ?? null,
    severity: json.severity,
    verdict: ex.applied?.verdict ?? json.verdict,
    leaks: json.leaks,
    client: ex.client.address,
    host: ex.request.host,
    path: ex.request.path,
    kinds,
    type: ex.kind,
    firstParty: item.audit?.firstParty ?? false,
    durationMs: ex.endedAt >= ex.startedAt ? ex.endedAt - ex.startedAt : null,
    error: ex.error?.code ?? null,
    connectionId: ex.websocket?.connectionId ?? null,
    direction: ex.websocket?.direction ?? null,
  };
}
