/**
 * CIDR lists given on the command line: `--allow-client CIDR` (which client addresses may use any
 * listener) and `--allow-upstream CIDR` (which otherwise-refused upstream ranges may be dialled).
 * Built on node:net BlockList so IPv4, IPv6 and IPv4-mapped IPv6 (`::ffff:10.0.0.1`) are all
 * compared correctly.
 */
import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../core/errors.js';

export interface ClientAllowList {
  (address: string): boolean;
}

function addSpec(flag: string, list: BlockList, spec: string): void {
  const bad = (why: string): ConfigError =>
    new ConfigError(`${flag} ${JSON.stringify(spec)}: ${why} (expected an IP or CIDR like 192.168.1.0/24 or fd00::/8)`);
  const slash = spec.indexOf('/');
  const ip = slash < 0 ? spec : spec.slice(0, slash);
  const kind = isIP(ip);
  if (kind === 0 || ip.includes('%')) throw bad('not an IP address');
  const family = kind === 4 ? 'ipv4' : 'ipv6';
  const max = kind === 4 ? 32 : 128;
  if (slash < 0) return list.addAddress(ip, family);
  const bitsText = spec.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bitsText)) throw bad('prefix length is not a number');
  const bits = Number(bitsText);
  if (bits > max) throw bad(`prefix length must be 0-${max}`);
  list.addSubnet(ip, bits, family);
}

/** `[v6]` brackets and `%zone` suffixes dropped: the bare address BlockList understands. */
export function bareAddress(address: string): string {
  const a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const zone = a.indexOf('%');
  return zone < 0 ? a : a.slice(0, zone);
}

/** True when `address` (any IP literal) is in `list`; IPv4-mapped IPv6 matches IPv4 entries. */
export function inList(list: BlockList, address: string): boolean {
  const bare = bareAddress(address);
  const kind = isIP(bare);
  if (kind === 0) return false;
  return list.check(bare, kind === 4 ? 'ipv4' : 'ipv6');
}

/** Parses a CIDR list; throws ConfigError naming `flag` with a one-line message on the first bad entry. */
export function parseCidrList(flag: string, specs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const spec of specs) addSpec(flag, list, spec.trim());
  return list;
}

/** `--allow-client`: parses the CIDR list into a predicate over client addresses. */
export function parseAllowClients(specs: readonly string[]): ClientAllowList {
  const list = parseCidrList('--allow-client', specs);
  return (address: string): boolean => inList(list, address);
}
