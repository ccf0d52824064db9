/**
 * store/report-queries.ts over a real SQLite store (written by the recorder's writer): what each
 * verdict and outcome makes of a finding — sent, answered, prevented, or none (failed before the
 * origin) — table-driven, one exchange per row.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Audit } from '../../core/audit.js';
import type { Decision, Exchange, ExchangeKind } from '../../core/exchange.js';
import type { Verdict } from '../../core/vocabulary.js';
import { openStore, type Store } from '../../store/db.js';
import { createReportQueries, type Bucket } from '../../store/report-queries.js';
import { createWriter } from '../../store/write.js';

const EMPTY = { bytes: Buffer.alloc(0), size: 0, truncated: false };

interface Case {
  readonly name: string;
  readonly verdict: Verdict;
  readonly applied?: Decision;
  readonly kind?: ExchangeKind;
  readonly direction?: 'send' | 'receive';
  readonly status?: number | null;
  readonly error?: string;
  /** finding where -> expected bucket */
  readonly findings: ReadonlyArray<readonly [where: string, bucket: Bucket]>;
  readonly reached: 0 | 1;
}

const CASES: Case[] = [
  { name: 'allowed', verdict: 'allow', findings: [['request.body.email', 'sent'], ['response.body.mxid', 'answered']], reached: 1 },
  { name: 'observe mode would-block: still sent', verdict: 'would-block', findings: [['request.header.user-agent', 'sent']], reached: 1 },
  { name: 'blocked', verdict: 'block', applied: { verdict: 'block', ruleId: 'r' }, status: 403, findings: [['request.body.email', 'prevented']], reached: 0 },
  { name: 'neutralized', verdict: 'neutralize', applied: { verdict: 'neutralize', ruleId: 'r' }, findings: [['request.body.addresses[0]', 'prevented']], reached: 0 },
  { name: 'held then denied', verdict: 'hold', applied: { verdict: 'hold', ruleId: 'r', detail: 'held, then denied: no answer within 30 s' }, status: 403, findings: [['request.body.email', 'prevented']], reached: 0 },
  { name: 'held then allowed', verdict: 'hold', applied: { verdict: 'hold', ruleId: 'r', detail: 'held, then allowed by you (once)' }, findings: [['request.body.email', 'sent']], reached: 1 },
  {
    name: 'stripped: only the stripped fields are prevented', verdict: 'strip',
    applied: { verdict: 'strip', ruleId: 'r', detail: 'stripped headers Referer; json initial_device_display_name' },
    findings: [['request.header.referer', 'prevented'], ['request.body.initial_device_display_name', 'prevented'], ['request.body.email', 'sent']], reached: 1,
  },
  { name: 'a WebSocket message from the server', verdict: 'allow', kind: 'websocket', direction: 'receive', findings: [['websocket.data.content.body', 'answered']], reached: 1 },
  { name: 'a WebSocket message to the server', verdict: 'allow', kind: 'websocket', direction: 'send', findings: [['websocket.data.content.body', 'sent']], reached: 1 },
  { name: 'failed before the origin', verdict: 'allow', status: null, error: 'LW_UPSTREAM_CONNECT', findings: [['request.body.email', 'failed']], reached: 0 },
];

let store: Store | undefined;
afterEach(() => store?.close());

function exchangeOf(c: Case, id: number): Exchange {
  const kind = c.kind ?? 'http';
  const status = c.status === undefined ? 200 : c.status;
  return {
    id, kind, listener: 'proxy', startedAt: 1_700_000_000_000 + id, endedAt: 1_700_000_000_010 + id,
    client: { address: '10.0.0.2', port: 5000 },
    request: { method: 'POST', url: `https://t${id}.example.net/x`, scheme: 'https', host: `t${id}.example.net`, port: 443, path: '/x', httpVersion: '1.1', headers: [], body: EMPTY },
    ...(status !== null ? { response: { status, statusMessage: '', headers: [], body: EMPTY } } : {}),
    ...(kind === 'websocket' ? { websocket: { connectionId: 1, direction: c.direction ?? 'send', binary: false, data: EMPTY } } : {}),
    ...(c.error ? { error: { code: c.error, message: 'refused' } } : {}),
    ...(c.applied ? { decision: c.applied } : {}),
  };
}

describe('sent, answered, prevented', () => {
  it.each(CASES.map((c, i) => [c.name, c, i + 1] as const))('%s', (_name, c, id) => {
    store = openStore(':memory:');
    const write = createWriter(store, { sessionId: store.openSession('s').id, storeBodies: 'none', redact: false, redactKey: randomBytes(32) });
    const audit: Audit = {
      classification: { ruleId: 'r', party: 'P', category: 'analytics', severity: 'high', action: 'log' },
      firstParty: false, severity: 'high', verdict: c.verdict, notes: [],
      findings: c.findings.map(([where], n) => ({ kind: 'email', value: `v${n}@example.org`, where, method: 'structural' })),
    };
    write([{ exchange: exchangeOf(c, id), audit }]);
    const q = createReportQueries(store);
    const want: Record<string, number> = {};
    for (const [, b] of c.findings) want[b] = (want[b] ?? 0) + 1;
    const got: Record<string, number> = {};
    for (const k of q.kinds({})) got[k.bucket] = (got[k.bucket] ?? 0) + k.count;
    expect(got).toEqual(want);
    expect(q.groups({}).map((g) => g.reached)).toEqual([c.reached]);
  });
});
