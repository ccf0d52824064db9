/**
 * Which DNS names leakwatch answers itself: names covered by a rule with an explicit host
 * (exact or `*.suffix`; `*` rules cover every host and so no name in particular). Reuses the
 * rules' host index so a name matches exactly as an HTTP host would.
 *
 * Blocking by DNS takes the whole name away, paths and methods included, so a name is blocked
 * only when one of its most specific rules blocks (enforce mode) and has no path or method
 * restriction; otherwise it is intercepted and the HTTP engine decides per request.
 */
import type { Action } from '../../core/vocabulary.js';
import { buildHostIndex, normalizeHost } from '../../rules/host-index.js';
import type { CompiledRuleset } from '../../rules/compile.js';
import type { Rule } from '../../rules/types.js';

export interface Coverage {
  readonly ruleId: string;
  readonly block: boolean;
}

export type CoversName = (name: string) => Coverage | null;

export function ruleCoverage(
  ruleset: Pick<CompiledRuleset, 'rules'>,
  mode: 'observe' | 'enforce',
  actionOf: (rule: Rule) => Action = (rule) => rule.action,
): CoversName {
  const entries: Array<readonly [string, Rule]> = [];
  for (const rule of ruleset.rules) for (const h of rule.hosts) if (h !== '*') entries.push([h.toLowerCase(), rule]);
  const index = buildHostIndex(entries);
  return (name) => {
    const hits = index.lookup(normalizeHost(name));
    const best = hits[0];
    if (!best) return null;
    const top = hits.filter((h) => h.rank === best.rank).map((h) => h.value);
    const blocker =
      mode === 'enforce'
        ? top.find((r) => actionOf(r) === 'block' && r.paths.length === 0 && r.methods.length === 0)
        : undefined;
    return blocker ? { ruleId: blocker.id, block: true } : { ruleId: best.value.id, block: false };
  };
}
