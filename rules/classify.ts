/**
 * classify: which rule describes a request. Pure and synchronous (it runs on the audit stage and
 * may run in the request gate).
 *
 * First-party hosts (the user's own homeserver(s), `--first-party`) are where a Matrix client is
 * supposed to talk, so ordinary traffic there (/sync, /messages, …) is not a leak: on those hosts
 * only `first-party-exposure` rules apply (data sent to your server but published onward, such as
 * device names or pushers). Every other host is matched against all rules; the best match wins.
 */
import { normalizeHost } from './host-index.js';
import type { CompiledRuleset } from './compile.js';
import type { Exchange } from '../core/exchange.js';
import { splitUrlPath } from './extract-units.js';
import { requestConditionHolds, responseConditionHolds } from './response-condition.js';
import type { RuleMatch } from './types.js';

export interface ClassifyInput {
  readonly method: string;
  readonly host: string;
  /** Raw path; a query is ignored. */
  readonly path: string;
  /** Path and query as sent, read only when a matching rule has a request condition (cheap otherwise). */
  readonly target?: string;
}

export interface ClassifyResult {
  readonly match: RuleMatch | null;
  readonly firstParty: boolean;
}

/**
 * Is `host` first-party? Entries of `firstParty` are lower-case hosts ("example.org", exact) or
 * "*.example.org" (subdomains only, as in rule packs); build them with `firstPartySet`.
 */
export function isFirstParty(host: string, firstParty: ReadonlySet<string>): boolean {
  if (firstParty.size === 0) return false;
  const h = normalizeHost(host);
  if (firstParty.has(h)) return true;
  for (let dot = h.indexOf('.'); dot >= 0; dot = h.indexOf('.', dot + 1)) {
    if (firstParty.has(`*.${h.slice(dot + 1)}`)) return true;
  }
  return false;
}

/** Normalise `--first-party` values: lower-case, no port, no trailing dot; "*." kept. */
export function firstPartySet(hosts: Iterable<string>): ReadonlySet<string> {
  const out = new Set<string>();
  for (const raw of hosts) {
    const wild = raw.trim().startsWith('*.');
    const h = normalizeHost(wild ? raw.trim().slice(2) : raw);
    if (h !== '') out.add(wild ? `*.${h}` : h);
  }
  return out;
}

/**
 * `exchange`: the finished exchange, for rules with a response condition; without it (the request
 * gate, before any response) such rules are skipped.
 */
export function classify(input: ClassifyInput, ruleset: CompiledRuleset, firstParty: ReadonlySet<string>, exchange?: Exchange): ClassifyResult {
  const fp = isFirstParty(input.host, firstParty);
  let matches = ruleset.match(input.method, input.host, input.path);
  if (matches.some((m) => m.rule.request)) {
    matches = matches.filter((m) => !m.rule.request || requestConditionHolds(m.rule.request, splitUrlPath(input.target ?? '').query));
  }
  if (matches.some((m) => m.rule.response)) {
    matches = matches.filter((m) => !m.rule.response || (exchange !== undefined && responseConditionHolds(m.rule.response, exchange)));
  }
  const best = fp ? matches.find((m) => m.rule.category === 'first-party-exposure') : matches[0];
  return { match: best ?? null, firstParty: fp };
}
