/**
 * Recent intercepted DNS answers per client: "10.0.0.5 resolved stun.l.google.com to us at t".
 * The STUN sensor reads it to say which server name a binding request was meant for (a STUN
 * packet carries no name). Bounded: at most `maxClients` clients (LRU) and `perClient` names each,
 * entries older than `maxAgeMs` are ignored.
 */
import { Lru } from '../../certs/lru.js';
import { clientAddress } from '../../core/hosts.js';

export interface RecentAnswer {
  readonly name: string;
  readonly ruleId: string | null;
  /** The address we answered with. */
  readonly address: string;
  readonly at: number;
}

export interface RecentAnswers {
  record(client: string, answer: RecentAnswer): void;
  /** The newest answer for this client, optionally only those that sent it to `address`. */
  latest(client: string, opts?: { address?: string; now?: number }): RecentAnswer | null;
  readonly size: number;
}

/** "::ffff:10.0.0.5" and "10.0.0.5" are the same client (dual-stack sockets). */
export const clientKey = clientAddress;

export function createRecentAnswers(opts: { maxClients?: number; perClient?: number; maxAgeMs?: number } = {}): RecentAnswers {
  const perClient = opts.perClient ?? 8;
  const maxAgeMs = opts.maxAgeMs ?? 10 * 60_000;
  const clients = new Lru<string, RecentAnswer[]>(opts.maxClients ?? 4096);
  return {
    record(client, answer) {
      const key = clientKey(client);
      const list = (clients.get(key) ?? []).filter((a) => a.name !== answer.name);
      list.unshift(answer);
      clients.set(key, list.slice(0, perClient));
    },
    latest(client, { address, now = Date.now() } = {}) {
      const list = clients.peek(clientKey(client)) ?? [];
      const want = address === undefined ? undefined : clientKey(address);
      return list.find((a) => now - a.at <= maxAgeMs && (want === undefined || clientKey(a.address) === want)) ?? null;
    },
    get size() {
      return clients.size;
    },
  };
}
