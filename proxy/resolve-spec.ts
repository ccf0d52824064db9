/**
 * `--resolve HOST=IP[:PORT]`: dial IP (and PORT, if given, instead of the requested port) whenever
 * a client asks for HOST. The TLS name and the Host header stay HOST, like curl's --resolve, so
 * certificates are still checked against the real name.
 */
import { isIP } from 'node:net';
import { ConfigError } from '../core/errors.js';
import { parseHost, parsePort } from './connect-target.js';

export interface ResolveTarget {
  readonly host: string;
  readonly port?: number;
}

export interface ResolveEntry {
  /** The name clients use (lower case). */
  readonly name: string;
  readonly target: ResolveTarget;
}

export function parseResolveSpec(spec: string): ResolveEntry {
  const bad = (why: string): ConfigError => new ConfigError(`--resolve ${JSON.stringify(spec)}: ${why} (expected HOST=IP[:PORT])`);
  const eq = spec.indexOf('=');
  if (eq <= 0) throw bad('missing "="');
  const host = parseHost(spec.slice(0, eq));
  if (!host || host.hostKind !== 'dns') throw bad('HOST must be a host name');
  const rhs = spec.slice(eq + 1);
  let ip: string;
  let portText: string | undefined;
  if (rhs.startsWith('[')) {
    const close = rhs.indexOf(']');
    if (close < 0) throw bad('unclosed "["');
    ip = rhs.slice(1, close);
    const rest = rhs.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw bad('junk after "]"');
    portText = rest === '' ? undefined : rest.slice(1);
    if (isIP(ip) !== 6) throw bad('brackets must hold an IPv6 address');
  } else if (isIP(rhs) === 6) {
    ip = rhs;
  } else {
    const colon = rhs.lastIndexOf(':');
    ip = colon < 0 ? rhs : rhs.slice(0, colon);
    portText = colon < 0 ? undefined : rhs.slice(colon + 1);
    if (isIP(ip) !== 4) throw bad('IP must be an IPv4 or [IPv6] address');
  }
  if (ip.includes('%')) throw bad('zone ids are not supported');
  if (portText === undefined) return { name: host.host, target: { host: ip.toLowerCase() } };
  const port = parsePort(portText);
  if (port === undefined) throw bad('PORT must be 1-65535');
  return { name: host.host, target: { host: ip.toLowerCase(), port } };
}

/** Builds the engine's `resolve` map from repeated flags; a later flag for the same name wins. */
export function buildResolveMap(specs: readonly string[]): Map<string, ResolveTarget> {
  const map = new Map<string, ResolveTarget>();
  for (const spec of specs) {
    const entry = parseResolveSpec(spec);
    map.set(entry.name, entry.target);
  }
  return map;
}
