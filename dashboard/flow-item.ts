/**
 * Turns an audited exchange (what the pipeline carries) into the FlowItem the stream and the Live
 * table use: core/exchange-json's shape plus client/host/path/kinds. Pure, so the hub can call it
 * at flush time rather than on the proxy's turn of the event loop.
 */
import { outcomeOf } from '../core/audit.js';
import type { PipelineItem } from '../core/pipeline.js';
import { toExchangeJson } from '../core/exchange-json.js';
import type { FlowItem } from './data-source.js';

// Date#toISOString costs ~0.5-1 µs a call and the hub formats every flow's start time; flows
// arrive in bursts within the same second, so the "YYYY-MM-DDTHH:MM:SS." prefix is reused.
let isoSecond = Number.NaN;
let isoPrefix = '';
const MAX_FAST_MS = 253402300799999; // 9999-12-31T23:59:59.999Z: four-digit years only

/** `new Date(ms).toISOString()`, same result (and the same RangeError for an invalid time). */
export function isoTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_FAST_MS) return new Date(ms).toISOString();
  const milli = ms % 1000;
  const second = ms - milli;
  if (second !== isoSecond) {
    isoPrefix = new Date(second).toISOString().slice(0, 20);
    isoSecond = second;
  }
  return `${isoPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

function kindsOf(leaks: ReadonlyArray<{ readonly kind: string }>): string[] {
  if (leaks.length === 0) return [];
  if (leaks.length === 1) return [leaks[0]!.kind];
  return [...new Set(leaks.map((l) => l.kind))].sort();
}

/** `session`: stamped on live items by the hub (the store knows it for stored ones). */
export function toFlowItem(item: PipelineItem, session: string | null = null): FlowItem {
  const ex = item.exchange;
  // No `time` here: formatted below with the per-second cache (toExchangeJson would use a Date).
  const json = toExchangeJson({
    id: ex.id,
    session: null,
    method: ex.request.method,
    url: ex.request.url,
    status: ex.response?.status ?? null,
    audit: item.audit,
    outcome: outcomeOf(ex.decision, item.audit),
  });
  return {
    id: ex.id,
    time: isoTime(ex.startedAt),
    session,
    method: json.method,
    url: json.url,
    status: json.status ?? null,
    category: json.category,
    party: json.party,
    rule: json.rule,
    severity: json.severity,
    verdict: json.verdict,
    leaks: json.leaks,
    client: ex.client.address,
    host: ex.request.host,
    path: ex.request.path,
    kinds: kindsOf(json.leaks),
    type: ex.kind,
    firstParty: item.audit?.firstParty ?? false,
    durationMs: ex.endedAt >= ex.startedAt ? ex.endedAt - ex.startedAt : null,
    error: ex.error?.code ?? null,
    connectionId: ex.websocket?.connectionId ?? null,
    direction: ex.websocket?.direction ?? null,
    binary: ex.websocket?.binary ?? null,
  };
}
