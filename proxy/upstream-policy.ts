/**
 * Which upstream addresses the proxy may dial. A proxy that dials whatever a client names is a
 * pivot: a phone on the LAN, or a web page in a browser that uses the proxy, would reach this
 * machine's loopback-only services (ssh, databases, the dashboard) and the cloud metadata service.
 * Loopback, link-local, unspecified addresses and their IPv4-mapped IPv6 spellings are refused.
 *
 * Private ranges (10/8, 172.16/12, 192.168/16, fc00::/7) are refused too. A client that reaches
 * leakwatch over the LAN could otherwise reach what the LAN cannot: services on this machine's
 * private addresses that a firewall keeps from the LAN, container and VPN networks behind it, and
 * through a browser using the proxy, the router's admin pages (the browser's own private-network
 * protection cannot see the address behind a proxy). A homeserver on the LAN is opened with one
 * `--allow-upstream CIDR` (or `--resolve`), which the refusal names.
 *
 * The decisive check is on the address actually dialled, after name resolution (guardLookup, and
 * agent-guard.ts for IP literals and as a last check on the connected peer), so a name that
 * resolves to 127.0.0.1, or rebinds to it between two lookups, is caught too. `refusal()` is the
 * early answer for what the request itself names (an IP literal, `localhost`), so the client gets
 * a clear 403 before anything is dialled.
 *
 * `--resolve` names and `--allow-upstream CIDR` ranges are the user's explicit choice: allowed.
 */
import dns, { type LookupAddress } from 'node:dns';
import { isIP, type BlockList, type LookupFunction } from 'node:net';
import { ERR } from '../core/errors.js';
import { inList, parseCidrList } from './cidr.js';

export interface UpstreamPolicy {
  /**
   * Why `host` (as the client named it, before --resolve) must not be dialled, or undefined.
   * Names that pass are checked again once resolved.
   */
  refusal(host: string): string | undefined;
  /** True when the resolved `address` must not be dialled. */
  forbidsAddress(address: string): boolean;
  /** True when `host` is a --resolve name (its mapped address is the user's choice). */
  isMapped(host: string): boolean;
}

/** Ranges a client must never reach through the proxy unless --allow-upstream names them. */
const FORBIDDEN_RANGES = [
  '127.0.0.0/8', // loopback
  '0.0.0.0/8', // "this network": 0.0.0.0 connects to the local machine
  '169.254.0.0/16', // IPv4 link-local, cloud metadata (169.254.169.254)
  '::1/128', // IPv6 loopback
  '::/128', // unspecified
  'fe80::/10', // IPv6 link-local
  'fd00:ec2::254/128', // the IPv6 metadata address of one large cloud
  '10.0.0.0/8', // private (RFC 1918)
  '172.16.0.0/12', // private (RFC 1918), also Docker's default networks
  '192.168.0.0/16', // private (RFC 1918), most home LANs and their routers
  'fc00::/7', // IPv6 unique local addresses
];

/** Names that mean "this machine" or "the metadata service" before any lookup. */
const FORBIDDEN_NAMES = new Set(['localhost', 'metadata.google.internal', 'metadata', 'metadata.goog']);

const forbidden: BlockList = parseCidrList('--allow-upstream', FORBIDDEN_RANGES);

export function normaliseName(host: string): string {
  const h = host.toLowerCase();
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

export interface UpstreamPolicyOptions {
  /** `--allow-upstream` CIDR specs (validated here: ConfigError on a bad one). */
  readonly allow?: readonly string[];
  /** `--resolve` names (lower case). */
  readonly mapped?: ReadonlySet<string> | ReadonlyMap<string, unknown>;
}

export function createUpstreamPolicy(opts: UpstreamPolicyOptions = {}): UpstreamPolicy {
  const allow = parseCidrList('--allow-upstream', opts.allow ?? []);
  const forbidsAddress = (address: string): boolean => inList(forbidden, address) && !inList(allow, address);
  const isMapped = (host: string): boolean => opts.mapped?.has(normaliseName(host)) ?? false;
  return {
    forbidsAddress,
    isMapped,
    refusal(host) {
      if (isMapped(host)) return undefined;
      const name = normaliseName(host.startsWith('[') ? host.slice(1, -1) : host);
      if (isIP(name) !== 0) return forbidsAddress(name) ? `${name} is a loopback, link-local, private or unspecified address (see --allow-upstream)` : undefined;
      if (FORBIDDEN_NAMES.has(name) || name.endsWith('.localhost')) return `${name} names this machine or a metadata service (see --resolve)`;
      return undefined;
    },
  };
}

/** The error a refused dial fails with; error-codes.ts keeps its code, the client gets 403. */
export function targetForbidden(what: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`upstream ${what} is a loopback, link-local, private or unspecified address (see --allow-upstream)`), { code: ERR.TARGET_FORBIDDEN });
}

/**
 * Wraps a dns.lookup-shaped function: resolved addresses the policy forbids are dropped; when none
 * is left the lookup fails with LW_TARGET_FORBIDDEN, so nothing is dialled.
 */
export function guardLookup(lookup: LookupFunction, policy: UpstreamPolicy): LookupFunction {
  return (hostname, options, callback) => {
    const all = options.all === true;
    lookup(hostname, { ...options, all: true }, ((err: NodeJS.ErrnoException | null, list: LookupAddress[] | string) => {
      const cb = callback as unknown as (e: NodeJS.ErrnoException | null, a: LookupAddress[] | string, f?: number) => void;
      if (err) return all ? cb(err, []) : cb(err, '', 0);
      const addresses = (Array.isArray(list) ? list : []).filter((a) => !policy.forbidsAddress(a.address));
      if (addresses.length === 0) {
        const e = targetForbidden(hostname);
        return all ? cb(e, []) : cb(e, '', 0);
      }
      if (all) return cb(null, addresses);
      cb(null, addresses[0]!.address, addresses[0]!.family);
    }) as never);
  };
}

/** The system resolver as a LookupFunction (dns.lookup's overloads do not fit the type). */
export const systemLookup: LookupFunction = (hostname, options, callback) => dns.lookup(hostname, options, callback as never);
