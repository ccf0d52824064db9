/**
 * The compiled ruleset: built once when packs are loaded (host index, parsed path patterns, method
 * sets, merged extractor lists), then `match` runs per request with map probes and segment
 * compares only. Pure: no I/O, no clock.
 *
 * Priority of matches: path specificity (more literal segments first; an any-path rule counts 0),
 * then host specificity (exact > `*.suffix`, longer suffix first > `*`), then load order (pack order,
 * then rule order within the pack).
 */
import { RulePackError } from '../core/errors.js';
import { buildHostIndex, normalizeHost } from './host-index.js';
import { matchPath, parsePathPattern, splitPath, type PathPattern } from './path-pattern.js';
import type { ExtractorSpec, Rule, RuleMatch, RulePack } from './types.js';

export interface CompiledRuleset {
  readonly rules: readonly Rule[];
  readonly packs: readonly RulePack[];
  /** Every matching rule, best first (see the priority above). */
  match(method: string, host: string, path: string): RuleMatch[];
  /** One English sentence describing what the rule matches and what it means. */
  explain(rule: Rule): string;
}

interface CompiledRule {
  readonly rule: Rule;
  /** Load order. */
  readonly order: number;
  /** null = any method. */
  readonly methods: ReadonlySet<string> | null;
  /** null = any path; otherwise most literal segments first. */
  readonly patterns: readonly PathPattern[] | null;
  readonly extract: readonly ExtractorSpec[];
}

function compileRule(rule: Rule, order: number, defaults: readonly ExtractorSpec[]): CompiledRule {
  const patterns = rule.paths.map((p) => {
    const r = parsePathPattern(p);
    if (!r.ok) {
      // packs from rules/load.ts were validated already; this guards hand-built packs
      const { file, line, col = 1 } = rule.source;
      throw new RulePackError(`${file}:${line}:${col}: rules ${rule.id}: path "${p}" ${r.error}`, file, line, col, 'paths');
    }
    return r.pattern;
  });
  patterns.sort((a, b) => b.literals - a.literals);
  return {
    rule,
    order,
    methods: rule.methods.length > 0 ? new Set(rule.methods.map((m) => m.toUpperCase())) : null,
    patterns: patterns.length > 0 ? patterns : null,
    extract: Object.freeze([...defaults, ...rule.extract]),
  };
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});
/** Distinct (method, host, path) answers kept; past this the memo starts over (bounded memory). */
const MATCH_CACHE = 4096;

interface Candidate {
  readonly c: CompiledRule;
  readonly rank: number;
  readonly literals: number;
  readonly params: Readonly<Record<string, string>>;
}

/** The best pattern of `c` matching the split path (patterns are sorted most specific first). */
function matchRulePath(c: CompiledRule, parts: readonly string[] | null): Omit<Candidate, 'c' | 'rank'> | null {
  if (c.patterns === null) return { literals: 0, params: NO_PARAMS };
  if (parts === null) return null;
  for (const pattern of c.patterns) {
    const params = matchPath(pattern, parts);
    if (params) return { literals: pattern.literals, params };
  }
  return null;
}

export function compileRuleset(packs: readonly RulePack[]): CompiledRuleset {
  const compiled: CompiledRule[] = [];
  for (const pack of packs) for (const rule of pack.rules) compiled.push(compileRule(rule, compiled.length, pack.defaults.extract));
  const index = buildHostIndex(compiled.flatMap((c) => c.rule.hosts.map((h) => [h.toLowerCase(), c] as const)));
  const rules = Object.freeze(compiled.map((c) => c.rule));
  // The gate and the audit both classify every request, and traffic repeats its (method, host,
  // path): remember recent answers (the ruleset never changes; a reload compiles a new one).
  let recent = new Map<string, RuleMatch[]>();

  const matchUncached = (method: string, host: string, path: string): RuleMatch[] => {
    const hits = index.lookup(normalizeHost(host));
    if (hits.length === 0) return [];
    const m = method.toUpperCase();
    const parts = splitPath(path);
    const seen = new Set<CompiledRule>();
    const found: Candidate[] = [];
    for (const { value: c, rank } of hits) {
      // hits come most specific first, so the first hit of a rule carries its best rank
      if (seen.has(c)) continue;
      seen.add(c);
      if (c.methods && !c.methods.has(m)) continue;
      const p = matchRulePath(c, parts);
      if (p) found.push({ c, rank, ...p });
    }
    // A rule that names the path beats a host-wide catch-all: `*` + /_matrix/identity/v2/lookup on
    // vector.im is the identity lookup, not vector.im's CDN rule. Host specificity breaks ties.
    found.sort((a, b) => b.literals - a.literals || a.rank - b.rank || a.c.order - b.c.order);
    return found.map(({ c, params }) => ({ rule: c.rule, params, extract: c.extract }));
  };

  return {
    rules,
    packs: Object.freeze([...packs]),
    match(method, host, path) {
      const key = `${method} ${host} ${path}`;
      let m = recent.get(key);
      if (!m) {
        m = matchUncached(method, host, path);
        for (const x of m) Object.freeze(x.params);
        if (recent.size >= MATCH_CACHE) recent = new Map();
        recent.set(key, m);
      }
      // A copy: callers may filter or reorder their answer.
      return m.length === 0 ? [] : m.slice();
    },
    explain: explainRule,
  };
}

const or = (xs: readonly string[]): string =>
  xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]!}`;

const hostWords = (h: string): string => (h === '*' ? 'any host' : h.startsWith('*.') ? `any subdomain of ${h.slice(2)}` : h);

/**
 * "POST to any host at /_matrix/identity/v2/lookup → identity-server (vector.im identity server),
 * severity high, action log" (mockttp's explain(): a rule can describe itself).
 */
export function explainRule(rule: Rule): string {
  const methods = rule.methods.length > 0 ? or(rule.methods) : 'Any request';
  const hosts = or(rule.hosts.map(hostWords));
  const paths = rule.paths.length > 0 ? or(rule.paths) : 'any path';
  const when = rule.request?.query === 'matrix-id' ? ' whose query carries a Matrix user or room id' : '';
  return `${methods} to ${hosts} at ${paths}${when} → ${rule.category} (${rule.party}), severity ${rule.severity}, action ${rule.action}`;
}
