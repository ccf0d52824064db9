/**
 * One host grammar for every place that names hosts: `--passthrough`, `--block` (and dashboard
 * blocks), `--first-party`, rule packs and the host index, CONNECT targets. Before, four regexes
 * disagreed (a host with an underscore was a valid CONNECT target and `--block` host, but not a
 * `--passthrough` one or a rule host).
 *
 * Grammar: a name is dotted labels of letters, digits, `-` and `_` (real hosts use underscores:
 * `_dmarc`, some CDNs), no label starting or ending with `-`, at most 253 characters, compared in
 * lower case without a trailing dot. A pattern is a name, an IP literal, or `*.suffix`, which
 * matches the subdomains of suffix (not suffix itself).
 */
import { isIP } from 'node:net';

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

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

/** Is this a host name of the grammar above? Expects lower case, no trailing dot. */
export function isHostName(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  return host.split('.').every((label) => LABEL.test(label));
}

export type HostPattern = { readonly kind: 'exact'; readonly host: string } | { readonly kind: 'suffix'; readonly suffix: string };

/**
 * Parses a host pattern (`example.org`, `*.example.org`, `192.0.2.1`, `[::1]`), case and one
 * trailing dot ignored; a string says what is wrong.
 */
export function parseHostPattern(text: string): HostPattern | string {
  let t = text.trim().toLowerCase();
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  if (t.endsWith('.')) t = t.slice(0, -1);
  if (isIP(t) !== 0) return t.includes('%') ? 'an IPv6 zone id is not a host' : { kind: 'exact', host: t };
  const wildcard = t.startsWith('*.');
  const body = wildcard ? t.slice(2) : t;
  if (body.includes('*')) return 'a wildcard must be the whole first label: "*.example.org"';
  if (!isHostName(body)) return 'must be a host name (letters, digits, "-", "_", dotted labels), an IP address or *.suffix';
  return wildcard ? { kind: 'suffix', suffix: body } : { kind: 'exact', host: body };
}

/**
 * A set of host patterns: `has(host)` for a normalized host. Invalid patterns are skipped (the
 * callers validate flags first, with parseHostPattern's message).
 */
export function hostSet(patterns: readonly string[]): (host: string) => boolean {
  const exact = new Set<string>();
  const suffixes = new Set<string>();
  for (const p of patterns) {
    const parsed = parseHostPattern(p);
    if (typeof parsed === 'string') continue;
    if (parsed.kind === 'exact') exact.add(parsed.host);
    else suffixes.add(parsed.suffix);
  }
  if (suffixes.size === 0) return (host) => exact.has(host);
  return (host) => {
    if (exact.has(host)) return true;
    // "a.b.example.org" probes "b.example.org", "example.org", "org": one lookup per label.
    for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.', dot + 1)) if (suffixes.has(host.slice(dot + 1))) return true;
    return false;
  };
}

/** `host:port` with brackets around IPv6, the port left out when it is `defaultPort`. */
export function formatAuthority(host: string, port: number, defaultPort?: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port === defaultPort ? h : `${h}:${port}`;
}

/** A client's address as one key: dual-stack sockets report IPv4 peers as `::ffff:a.b.c.d`. */
export function clientAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address.toLowerCase();
}
