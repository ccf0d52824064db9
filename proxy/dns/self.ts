/**
 * Is an address this machine's own, as seen by a listener bound to `listenHost`? Used to refuse
 * forwarding DNS queries to ourselves (a resolver loop).
 */
import { networkInterfaces } from 'node:os';
import { clientKey } from './recent-answers.js';

const WILDCARD = new Set(['0.0.0.0', '::', '']);

function localAddresses(): Set<string> {
  const out = new Set<string>(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(clientKey(a.address));
  return out;
}

export function isOwnAddress(listenHost: string, address: string): boolean {
  const a = clientKey(address);
  const h = clientKey(listenHost);
  if (a === h) return true;
  if (!WILDCARD.has(h)) return false;
  return a.startsWith('127.') || a === '0.0.0.0' || a === '::' || localAddresses().has(a);
}
