/**
 * Refuses to proxy to ourselves. A request for http://127.0.0.1:<our port>/ (or a name resolving
 * to one of our addresses on one of our ports) would make the proxy call itself forever.
 */
import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { clientAddress } from '../core/hosts.js';

export interface LoopGuard {
  /** True when (host, port) is one of our own listeners; `host` may be a name or an IP literal. */
  isForbidden(host: string, port: number): boolean;
}

const normalise = clientAddress;

function ourAddresses(listenHost: string): Set<string> {
  const set = new Set<string>(['0.0.0.0', '::', '::1', normalise(listenHost)]);
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) set.add(normalise(info.address));
  }
  return set;
}

export function createLoopGuard(listenHost: string, ports: () => Iterable<number>): LoopGuard {
  const addresses = ourAddresses(listenHost);
  const isOurs = (host: string): boolean => {
    const h = normalise(host.replace(/^\[|\]$/g, ''));
    if (h === 'localhost' || h.endsWith('.localhost')) return true;
    if (h.startsWith('127.') && isIPv4(h)) return true;
    return addresses.has(h);
  };
  return {
    isForbidden(host, port) {
      if (!isOurs(host)) return false;
      for (const p of ports()) if (p === port) return true;
      return false;
    },
  };
}
