/**
 * `--allow-client CIDR`: which client addresses may use the proxy. Built on node:net BlockList so
 * IPv4, IPv6 and IPv4-mapped IPv6 (`::ffff:10.0.0.1`) are all compared correctly.
 */
import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../core/errors.js';

export interface ClientAllowList {
  (address: string): boolean;
}

function addSpec(list: BlockList, spec: string): void {
  const bad = (why: string): ConfigError =>
    new ConfigError(`--allow-client ${JSON.stringify(spec)}: ${why} (expected an IP or CIDR like 192.168.1.0/24 or fd00::/8)`);
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

/** Parses the CIDR list; throws ConfigError with a one-line message on the first bad entry. */
export function parseAllowClients(specs: readonly string[]): ClientAllowList {
  const list = new BlockList();
  for (const spec of specs) addSpec(list, spec.trim());
  return (address: string): boolean => {
    const kind = isIP(address);
    if (kind === 0) return false;
    if (kind === 6) {
      // Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; check the IPv4 form too.
      const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
      if (mapped && list.check(mapped[1]!, 'ipv4')) return true;
      return list.check(address, 'ipv6');
    }
    return list.check(address, 'ipv4');
  };
}
