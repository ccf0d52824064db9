/**
 * audit = classify -> extract -> verdict, as one pure function over an exchange. The live proxy runs
 * it as a pipeline stage after the response; `leakwatch analyze` runs it over HAR entries. Same
 * inputs, same answer: that is what lets a HAR exported by leakwatch re-analyse identically.
 */
import type { Audit, Classification } from '../core/audit.js';
import type { Exchange } from '../core/exchange.js';
import type { Stage } from '../core/pipeline.js';
import type { Action, Severity, Verdict } from '../core/vocabulary.js';
import { classify, isFirstParty, type ClassifyResult } from './classify.js';
import type { CompiledRuleset } from './compile.js';
import { extractFindings } from './extract.js';
import type { KnownValueIndex } from './known-values.js';
import type { Rule } from './types.js';

export interface AuditContext {
  readonly ruleset: CompiledRuleset;
  /** The user's homeserver(s): exact hosts or `*.suffix`. */
  readonly firstParty: ReadonlySet<string>;
  readonly known: KnownValueIndex;
  readonly mode: 'observe' | 'enforce';
  /** The effective action of a rule (pack default unless overridden). */
  readonly actionOf?: (rule: Rule) => Action;
}

/** What a rule's action means for the verdict when the gate decided nothing. */
export function verdictFor(action: Action, mode: 'observe' | 'enforce'): Verdict {
  if (action === 'log') return 'allow';
  return mode === 'observe' ? `would-${action}` : action;
}

function hostOf(ex: Exchange): string {
  return ex.request.host;
}

function pathOf(ex: Exchange): string {
  const p = ex.request.path;
  const q = p.indexOf('?');
  return q === -1 ? p : p.slice(0, q);
}

/**
 * The rule the request gate decided with, when it names a pack rule that still matches (a rule
 * reload may have removed it; a `block:HOST/PATH` is no pack rule): the audit reuses it instead of
 * matching again, because the gate never sees response-dependent rules and a second match could
 * pick one of those and pair it with the gate's verdict.
 */
function gateMatch(ex: Exchange, ctx: AuditContext): ClassifyResult | null {
  const ruleId = ex.decision?.ruleId;
  if (!ruleId) return null;
  const match = ctx.ruleset.match(ex.request.method, hostOf(ex), pathOf(ex)).find((m) => m.rule.id === ruleId);
  return match ? { match, firstParty: isFirstParty(hostOf(ex), ctx.firstParty) } : null;
}

export function auditExchange(ex: Exchange, ctx: AuditContext): Audit {
  // Only without a gate decision does the response add anything: a response-dependent rule.
  const { match, firstParty } =
    gateMatch(ex, ctx) ??
    classify({ method: ex.request.method, host: hostOf(ex), path: pathOf(ex), target: ex.request.path }, ctx.ruleset, ctx.firstParty, ex);
  const { findings, notes } = extractFindings(ex, match, { firstParty, known: ctx.known });
  let classification: Classification | null = null;
  let severity: Severity = findings.length > 0 ? 'info' : 'none';
  if (match) {
    const rule = match.rule;
    const action = ctx.actionOf ? ctx.actionOf(rule) : rule.action;
    classification = { ruleId: rule.id, party: rule.party, category: rule.category, severity: rule.severity, action };
    severity = rule.severity;
  }
  const verdict: Verdict = ex.decision?.verdict ?? (classification ? verdictFor(classification.action, ctx.mode) : 'allow');
  return { classification, firstParty, findings, severity, verdict, notes };
}

/** The pipeline stage; `ctx` is read per exchange so rule reloads apply without a restart. */
export function createAuditStage(ctx: () => AuditContext): Stage {
  return {
    name: 'audit',
    run(item) {
      item.audit = auditExchange(item.exchange, ctx());
    },
  };
}
