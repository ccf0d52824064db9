/**
 * outcomeOf is the one place the final rule and verdict of an exchange are read: the gate's
 * decision first (it may name a `block:HOST/PATH` no pack rule classifies), else the audit's.
 * toFlowItem (the live stream) and toExchangeJson (analyze, exports) go through it.
 */
import { describe, expect, it } from 'vitest';
import { outcomeOf, type Audit } from '../../core/audit.js';
import { EMPTY_BODY, type Decision, type Exchange } from '../../core/exchange.js';
import { toExchangeJson } from '../../core/exchange-json.js';
import { toFlowItem } from '../../dashboard/flow-item.js';

const audit = (ruleId: string | null, verdict: Audit['verdict']): Audit => ({
  classification: ruleId ? { ruleId, party: 'p', category: 'analytics', severity: 'medium', action: 'block' } : null,
  firstParty: false,
  findings: [],
  severity: ruleId ? 'medium' : 'none',
  verdict,
  notes: [],
});

const exchange = (decision?: Decision): Exchange => ({
  id: 7, kind: 'http', listener: 'proxy', startedAt: 1_700_000_000_000, endedAt: 1_700_000_000_010,
  client: { address: '127.0.0.1', port: 1 },
  request: { method: 'GET', url: 'http://t.test/x', scheme: 'http', host: 't.test', port: 80, path: '/x', httpVersion: '1.1', headers: [], body: EMPTY_BODY },
  ...(decision ? { decision } : {}),
});

const CASES: Array<[string, Decision | undefined, Audit | undefined, { rule: string | null; verdict: string }]> = [
  ['nothing matched, nothing decided', undefined, audit(null, 'allow'), { rule: null, verdict: 'allow' }],
  ['no audit, no decision', undefined, undefined, { rule: null, verdict: 'allow' }],
  ['audit only (a response-dependent rule)', undefined, audit('r.response', 'allow'), { rule: 'r.response', verdict: 'allow' }],
  ['the gate decided with a pack rule', { ruleId: 'r.gate', verdict: 'would-block' }, audit('r.gate', 'would-block'), { rule: 'r.gate', verdict: 'would-block' }],
  ['a host block wins over the pack rule that classifies', { ruleId: 'block:t.test/x', verdict: 'block' }, audit('r.pack', 'block'), { rule: 'block:t.test/x', verdict: 'block' }],
  ['a decision without a rule keeps the classification', { ruleId: null, verdict: 'block' }, audit('r.pack', 'allow'), { rule: 'r.pack', verdict: 'block' }],
  ['a decision with no audit (stage off)', { ruleId: 'r.gate', verdict: 'strip' }, undefined, { rule: 'r.gate', verdict: 'strip' }],
];

describe('outcomeOf', () => {
  it.each(CASES)('%s', (_name, decision, a, want) => {
    expect(outcomeOf(decision, a)).toEqual(want);
    expect(toFlowItem({ exchange: exchange(decision), ...(a ? { audit: a } : {}) })).toMatchObject(want);
    expect(toExchangeJson({ method: 'GET', url: 'http://t.test/x', audit: a, outcome: outcomeOf(decision, a) })).toMatchObject(want);
  });
});
