/**
 * Strict parsing of a CONNECT request target (RFC 9110 authority-form: `host:port`, `[v6]:port`).
 *
 * Why strict: http-mitm-proxy 1.1.0 takes `req.url.split(':')[0]` as the host and builds file paths
 * from it (`CONNECT ../../x:443` wrote key files outside its CA dir) and parses `[::1]:443` as host
 * "[". Anything that is not an LDH name (<= 253 chars) or an IP literal with a port 1-65535 is
 * rejected before it reaches any other code.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { isHostName } from '../core/hosts.js';

export interface HostPort {
  /** Lower case, no brackets, no trailing dot. */
  readonly host: string;
  readonly port: number;
  readonly hostKind: 'dns' | 'ipv4' | 'ipv6';
}

export type ParseResult = { readonly ok: true; readonly target: HostPort } | { readonly ok: false; readonly reason: string };

const DIGITS = /^[0-9]{1,5}$/;
const NUMERIC_LABEL = /^(?:0x[0-9a-f]*|[0-9]+)$/;

/** Parses a port written as 1-5 decimal digits, 1..65535; undefined otherwise. */
export function parsePort(text: string): number | undefined {
  if (!DIGITS.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/**
 * Validates a bare host (no port, no brackets). Names whose last label is numeric are refused:
 * resolvers treat `127.1` or `0x7f.1` as IPv4 addresses, which would slip past the loop guard.
 */
export function parseHost(raw: string): { host: string; hostKind: HostPort['hostKind'] } | undefined {
  // Every request's host passes here: only text with a colon can be IPv6, so names never meet
  // Node's long IPv6 regex (it showed in the profile), with the same answers as isIP().
  const ipKind = raw.includes(':') ? (isIPv6(raw) ? 6 : 0) : isIPv4(raw) ? 4 : 0;
  if (ipKind === 4) return { host: raw, hostKind: 'ipv4' };
  if (ipKind === 6) return raw.includes('%') ? undefined : { host: raw.toLowerCase(), hostKind: 'ipv6' };
  const name = (raw.endsWith('.') ? raw.slice(0, -1) : raw).toLowerCase();
  if (name.length === 0 || name.length > 253) return undefined;
  if (!isHostName(name)) return undefined;
  if (NUMERIC_LABEL.test(name.slice(name.lastIndexOf('.') + 1))) return undefined;
  return { host: name, hostKind: 'dns' };
}

/** Parses `host:port` or `[v6]:port`. */
export function parseConnectTarget(raw: string): ParseResult {
  const fail = (reason: string): ParseResult => ({ ok: false, reason });
  if (raw.length === 0 || raw.length > 300) return fail('length');
  let hostText: string;
  let portText: string;
  if (raw.startsWith('[')) {
    const close = raw.indexOf(']');
    if (close < 0 || raw[close + 1] !== ':') return fail('bad bracketed host');
    hostText = raw.slice(1, close);
    portText = raw.slice(close + 2);
    if (isIP(hostText) !== 6) return fail('brackets hold no IPv6 literal');
  } else {
    const colon = raw.lastIndexOf(':');
    if (colon <= 0) return fail('no port');
    hostText = raw.slice(0, colon);
    portText = raw.slice(colon + 1);
    if (hostText.includes(':')) return fail('IPv6 literal without brackets');
  }
  const port = parsePort(portText);
  if (port === undefined) return fail('bad port');
  const host = parseHost(hostText);
  if (!host) return fail('bad host');
  return { ok: true, target: { ...host, port } };
}

export { formatAuthority } from '../core/hosts.js';
