/**
 * The one JSON shape of an audited exchange, shared by
 * `analyze --json` (with `index`), `export --format jsonl` and the dashboard stream (with `id`,
 * `time`, `status`, `session`). Keep this, dashboard/API.md and the README in step.
 */
import { outcomeOf, type Audit, type Finding, type Outcome } from './audit.js';
import type { Severity, Verdict } from './vocabulary.js';

export interface LeakJson {
  readonly kind: string;
  readonly value: string;
  readonly where: string;
  readonly method: string;
}

export interface ExchangeJson {
  readonly index?: number;
  readonly id?: number;
  readonly time?: string;
  readonly session?: string | null;
  readonly method: string;
  readonly url: string;
  readonly status?: number | null;
  readonly category: string | null;
  readonly party: string | null;
  readonly rule: string | null;
  readonly severity: Severity;
  readonly verdict: Verdict;
  readonly leaks: readonly LeakJson[];
}

export interface ExchangeJsonInput {
  readonly index?: number;
  readonly id?: number;
  readonly time?: number;
  readonly session?: string | null;
  readonly method: string;
  readonly url: string;
  readonly status?: number | null;
  readonly audit: Audit | undefined;
  /** The final rule and verdict when already known (a stored row, or `outcomeOf` with the gate's decision); default: the audit's. */
  readonly outcome?: Outcome;
}

const leakJson = (f: Finding): LeakJson => ({ kind: f.kind, value: f.value, where: f.where, method: f.method });

export function toExchangeJson(input: ExchangeJsonInput): ExchangeJson {
  const c = input.audit?.classification ?? null;
  const out: Record<string, unknown> = {};
  if (input.index !== undefined) out['index'] = input.index;
  if (input.id !== undefined) out['id'] = input.id;
  if (input.time !== undefined) out['time'] = new Date(input.time).toISOString();
  if (input.session !== undefined) out['session'] = input.session;
  out['method'] = input.method;
  out['url'] = input.url;
  if (input.status !== undefined) out['status'] = input.status;
  out['category'] = c?.category ?? null;
  out['party'] = c?.party ?? null;
  const outcome = input.outcome ?? outcomeOf(undefined, input.audit);
  out['rule'] = outcome.rule;
  out['severity'] = input.audit?.severity ?? 'none';
  out['verdict'] = outcome.verdict;
  out['leaks'] = (input.audit?.findings ?? []).map(leakJson);
  return out as unknown as ExchangeJson;
}
