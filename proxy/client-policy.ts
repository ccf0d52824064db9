/**
 * One client policy for every listener: the proxy port, the transparent listeners, the DNS server
 * (UDP and TCP), the STUN sensor and the dashboard. `--allow-client CIDR` names who may talk to
 * leakwatch at all; a listener asks `allows(address, listener)` before it does anything for a
 * client. Refusals are counted per listener (shown in /api/health and /metrics) rather than each
 * recorded, so a refused client flooding UDP cannot fill the store.
 */
import { parseAllowClients } from './cidr.js';

export const LISTENERS = ['proxy', 'transparent-https', 'transparent-http', 'dns', 'stun', 'dashboard'] as const;
export type ListenerName = (typeof LISTENERS)[number];

export function isListenerName(name: string | undefined): name is ListenerName {
  return (LISTENERS as readonly string[]).includes(name ?? '');
}

export interface ClientPolicy {
  /** True when `address` may use `listener`; a refusal is counted. */
  allows(address: string, listener: ListenerName): boolean;
  /** True when an --allow-client list is in force (without one, every client is allowed). */
  readonly restricted: boolean;
  /** Refusals since start, per listener. */
  refusals(): Record<ListenerName, number>;
}

/** `specs`: the --allow-client CIDRs (ConfigError on a bad one); empty = every client allowed. */
export function createClientPolicy(specs: readonly string[]): ClientPolicy {
  const list = specs.length > 0 ? parseAllowClients(specs) : undefined;
  const refused = Object.fromEntries(LISTENERS.map((l) => [l, 0])) as Record<ListenerName, number>;
  return {
    restricted: list !== undefined,
    allows(address, listener) {
      if (!list || list(address)) return true;
      refused[listener]++;
      return false;
    },
    refusals: () => ({ ...refused }),
  };
}
