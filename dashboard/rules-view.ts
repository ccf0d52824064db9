/**
 * CompiledRuleset -> RulesView for GET /api/rules. `leakwatch start` calls this in its `rules`
 * callback (so reloads show up at once) and adds rejected packs and store hit counts if it has them.
 */
import type { CompiledRuleset } from '../rules/compile.js';
import type { RulesView } from './types.js';

export interface RulesViewExtras {
  rejected?: RulesView['rejected'];
  mode?: string;
  /** All-time hits per rule id (e.g. from the store). */
  hits?: (ruleId: string) => number | undefined;
  /** The effective action of a rule (overrides applied); default the pack's. */
  actionOf?: (rule: import('../rules/types.js').Rule) => string;
}

export function rulesViewFromRuleset(rs: CompiledRuleset, extras: RulesViewExtras = {}): RulesView {
  return {
    packs: rs.packs.map((p) => ({ pack: p.pack, description: p.description.trim(), file: p.file, rules: p.rules.length })),
    rules: rs.rules.map((r) => {
      const hits = extras.hits?.(r.id);
      const action = extras.actionOf?.(r) ?? r.action;
      return {
        id: r.id,
        pack: r.pack,
        party: r.party,
        category: r.category,
        severity: r.severity,
        action,
        ...(action !== r.action ? { packAction: r.action } : {}),
        hosts: r.hosts,
        paths: r.paths,
        methods: r.methods,
        why: r.why.trim(),
        cite: r.cite.trim(),
        remediation: r.remediation.trim(),
        explain: rs.explain(r),
        source: { file: r.source.file, line: r.source.line },
        ...(hits === undefined ? {} : { hits }),
      };
    }),
    rejected: extras.rejected ?? [],
    ...(extras.mode === undefined ? {} : { mode: extras.mode }),
  };
}
