/**
 * What the rules say about an exchange: who receives it (classification), which personal data it
 * carries (findings) and what leakwatch did or would do (verdict). Produced by pure functions in
 * rules/; consumed by the store, the dashboard and the exports.
 */
import type { Decision } from './exchange.js';
import type { Action, Category, Kind, Severity, Verdict } from './vocabulary.js';

export interface Classification {
  readonly ruleId: string;
  readonly party: string;
  readonly category: Category;
  readonly severity: Severity;
  /** The rule's default (or overridden) action. */
  readonly action: Action;
}

/**
 * One leaked datum.
 * - where: a path into the exchange, e.g. `request.body.addresses[1]`, `request.query.address`,
 *   `request.header.user-agent`, `response.body.mappings.<hash>`, `websocket.data.content.body`.
 * - method: `structural` (a rule's extractor), `pattern` (a generic detector) or
 *   `known-value:<transform chain>` (a value the user told us about, e.g. `known-value:sha256(lower)`).
 */
export interface Finding {
  readonly kind: Kind;
  readonly value: string;
  readonly where: string;
  readonly method: string;
}

export interface Audit {
  /** null when no rule matched. */
  readonly classification: Classification | null;
  readonly firstParty: boolean;
  readonly findings: readonly Finding[];
  readonly severity: Severity;
  readonly verdict: Verdict;
  /** Decode problems, kept as data (never thrown). */
  readonly notes: readonly string[];
}

/** The rule and verdict an exchange is shown and stored with. */
export interface Outcome {
  readonly rule: string | null;
  readonly verdict: Verdict;
}

/**
 * The one place the final rule and verdict of an exchange are read (store, dashboard, exports,
 * analyze): the gate's decision when it made one (it may name a `block:HOST/PATH` that no pack rule
 * classifies), otherwise what the audit found.
 */
export function outcomeOf(decision: Decision | undefined, audit: Audit | undefined): Outcome {
  return {
    rule: decision?.ruleId ?? audit?.classification?.ruleId ?? null,
    verdict: decision?.verdict ?? audit?.verdict ?? 'allow',
  };
}
