/**
 * Back from rows to core records: an Exchange and its Audit as recorded, for the exporters (HAR
 * needs the whole exchange; jsonl and the stream need the audit). What the store did not keep
 * (bodies under --store-bodies/--redact, the client port) comes back empty.
 */
import type { Audit } from '../core/audit.js';
import { EMPTY_BODY, type BodyCapture, type Exchange, type RequestPart } from '../core/exchange.js';
import type { Category, Verdict } from '../core/vocabulary.js';
import type { BodyView, FindingRow, FlowDetail, FlowRow } from './types.js';

export function auditOf(row: FlowRow, findings: readonly FindingRow[], notes: readonly string[] = []): Audit {
  return {
    classification: row.rule !== null && row.party !== null && row.category !== null
      ? { ruleId: row.rule, party: row.party, category: row.category as Category, severity: row.severity, action: 'log' }
      : null,
    firstParty: false,
    findings: findings.map((f) => ({ kind: f.kind, value: f.value, where: f.where, method: f.method })),
    severity: row.severity,
    verdict: row.verdict,
    notes,
  };
}

const body = (b: BodyView | null | undefined, size = 0): BodyCapture =>
  b ? { bytes: b.bytes, size: b.size, truncated: b.truncated } : size > 0 ? { ...EMPTY_BODY, size, truncated: true } : EMPTY_BODY;

export function exchangeOf(d: FlowDetail): Exchange {
  let scheme = 'https';
  let port = 443;
  try {
    const u = new URL(d.url);
    scheme = u.protocol.replace(/:$/, '');
    port = u.port ? Number(u.port) : scheme === 'http' || scheme === 'ws' ? 80 : 443;
  } catch {
    // dns:/stun: urls the URL parser rejects keep the defaults.
  }
  const request: RequestPart = {
    method: d.method, url: d.url, scheme: scheme as RequestPart['scheme'], host: d.host, port, path: d.path,
    httpVersion: d.request.httpVersion, headers: d.request.headers, body: body(d.request.body),
  };
  return {
    id: d.id, kind: d.type, listener: d.listener ?? 'proxy', startedAt: d.time, endedAt: d.time + d.durationMs,
    client: { address: d.client, port: 0 }, request,
    ...(d.response && d.status !== null
      ? { response: { status: d.status, statusMessage: d.response.statusMessage, headers: d.response.headers, body: body(d.response.body) } }
      : {}),
    ...(d.websocket
      ? { websocket: { connectionId: d.websocket.connectionId, direction: d.websocket.direction, binary: d.websocket.binary, data: body(d.websocket.data) } }
      : {}),
    ...(d.error ? { error: { code: d.error, message: d.errorMessage ?? '' } } : {}),
    ...(d.applied ? { decision: { verdict: d.applied.verdict as Verdict, ruleId: d.applied.ruleId, ...(d.applied.detail !== undefined ? { detail: d.applied.detail } : {}) } } : {}),
  };
}
