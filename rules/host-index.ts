/**
 * Host patterns of rule packs (rules/README.md, "Hosts") and the index built from them once at
 * load: an exact-host map, a suffix map walked label by label (`*.example.org` is stored under
 * "example.org") and the any-host list. A lookup costs one map probe per label of the host.
 *
 * Priority (rank, lower = more specific): exact host 0, then suffixes longest first, then any host.
 */

/** Rank of an any-host (`*`) entry; exact is 0, a suffix of n labels is SUFFIX_BASE - n. */
export const RANK_ANY = 1000;
const SUFFIX_BASE = 999;

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Lower-case, port and brackets removed, trailing dot removed: "Matrix.ORG.:8448" -> "matrix.org". */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    // [v6]:port -> v6 (IPv6 literals keep their colons)
    const end = h.indexOf(']');
    h = end > 0 ? h.slice(1, end) : h.slice(1);
  } else {
    const colon = h.indexOf(':');
    // exactly one colon = host:port; more = a bare IPv6 literal
    if (colon >= 0 && h.indexOf(':', colon + 1) < 0) h = h.slice(0, colon);
  }
  while (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** Is this an LDH host name (letters, digits, hyphens; dotted labels)? Expects lower case. */
export function isLdhHost(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  return host.split('.').every((label) => LABEL.test(label));
}

/** A stable message when `pattern` is not `*`, an exact host or `*.suffix`; null when valid. */
export function hostPatternError(pattern: string): string | null {
  const p = pattern.toLowerCase();
  if (p === '*') return null;
  if (p.includes('://') || p.includes('/')) return 'must be a host name, not a URL: write "example.org"';
  if (p.includes(':')) return 'must not include a port: hosts are compared without port';
  if (p.endsWith('.')) return 'must not end with "."';
  const body = p.startsWith('*.') ? p.slice(2) : p;
  if (body.includes('*')) return 'a wildcard must be the whole first label: "*" or "*.example.org"';
  if (!isLdhHost(body)) return 'must be "*", a host name (letters, digits, "-", dotted labels) or "*.host"';
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
