/**
 * Host patterns of rule packs (rules/README.md, "Hosts") and the index built from them once at
 * load: an exact-host map, a suffix map walked label by label (`*.example.org` is stored under
 * "example.org") and the any-host list. A lookup costs one map probe per label of the host.
 *
 * Priority (rank, lower = more specific): exact host 0, then suffixes longest first, then any host.
 * The host grammar is core/hosts.ts's, shared with the flags, blocks and CONNECT targets.
 */
import { isHostName } from '../core/hosts.js';

export { isHostName as isLdhHost, normalizeHost } from '../core/hosts.js';

/** Rank of an any-host (`*`) entry; exact is 0, a suffix of n labels is SUFFIX_BASE - n. */
export const RANK_ANY = 1000;
const SUFFIX_BASE = 999;

/** A stable message when `pattern` is not `*`, an exact host or `*.suffix`; null when valid. */
export function hostPatternError(pattern: string): string | null {
  const p = pattern.toLowerCase();
  if (p === '*') return null;
  if (p.includes('://') || p.includes('/')) return 'must be a host name, not a URL: write "example.org"';
  if (p.includes(':')) return 'must not include a port: hosts are compared without port';
  if (p.endsWith('.')) return 'must not end with "."';
  const body = p.startsWith('*.') ? p.slice(2) : p;
  if (body.includes('*')) return 'a wildcard must be the whole first label: "*" or "*.example.org"';
  if (!isHostName(body)) return 'must be "*", a host name (letters, digits, "-", "_", dotted labels) or "*.host"';
  return null;
}

export interface HostHit<T> {
  readonly value: T;
  readonly rank: number;
}

export interface HostIndex<T> {
  /** Hits for a normalized host (see normalizeHost), most specific first; a value may repeat. */
  lookup(host: string): HostHit<T>[];
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Build the index from [pattern, value] pairs (patterns already validated and lower-case). */
export function buildHostIndex<T>(entries: Iterable<readonly [pattern: string, value: T]>): HostIndex<T> {
  const exact = new Map<string, T[]>();
  const suffix = new Map<string, T[]>();
  const any: T[] = [];
  for (const [pattern, value] of entries) {
    if (pattern === '*') any.push(value);
    else if (pattern.startsWith('*.')) push(suffix, pattern.slice(2), value);
    else push(exact, pattern, value);
  }
  return {
    lookup(host) {
      const hits: HostHit<T>[] = [];
      for (const value of exact.get(host) ?? []) hits.push({ value, rank: 0 });
      if (suffix.size > 0) {
        // "a.b.example.org" probes "b.example.org", "example.org", "org": never the host itself,
        // because "*.example.org" means subdomains only.
        let labels = host.split('.').length - 1;
        for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1), labels--) {
          for (const value of suffix.get(host.slice(dot + 1)) ?? []) hits.push({ value, rank: SUFFIX_BASE - labels });
        }
      }
      for (const value of any) hits.push({ value, rank: RANK_ANY });
      return hits;
    },
  };
}
