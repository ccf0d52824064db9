/**
 * One client policy for every listener: the proxy port, the transparent listeners, the DNS server
 * (UDP and TCP), the STUN sensor and the dashboard. `--allow-client CIDR` names who may talk to
 * leakwatch at all; a listener asks `allows(address, listener)` before it does anything for a
 * client. Refusals are counted per listener (shown in /api/health and /metrics), never recorded
 * one row each, so a refused client flooding any listener cannot fill the store; the log gets at
 * most one line per refused client per minute, so it cannot fill the disk either.
 */
import type { Server, Socket } from 'node:net';
import { ERR } from '../core/errors.js';
import type { Logger } from '../core/log.js';
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

export interface ClientPolicyOptions {
  /** Told about refused clients, at most once per client per `logEveryMs`. */
  readonly log?: Pick<Logger, 'warn'>;
  readonly logEveryMs?: number;
  readonly now?: () => number;
}

/** Distinct clients remembered for the log's rate limit; beyond it the oldest are forgotten. */
const MAX_LOGGED_CLIENTS = 4096;

/** `specs`: the --allow-client CIDRs (ConfigError on a bad one); empty = every client allowed. */
export function createClientPolicy(specs: readonly string[], opts: ClientPolicyOptions = {}): ClientPolicy {
  const list = specs.length > 0 ? parseAllowClients(specs) : undefined;
  const refused = Object.fromEntries(LISTENERS.map((l) => [l, 0])) as Record<ListenerName, number>;
  const every = opts.logEveryMs ?? 60_000;
  const now = opts.now ?? Date.now;
  /** Client address -> when its last refusal was logged (insertion order = age). */
  const logged = new Map<string, number>();
  const tell = (address: string, listener: ListenerName): void => {
    if (!opts.log) return;
    const at = now();
    const last = logged.get(address);
    if (last !== undefined && at - last < every) return;
    logged.delete(address);
    if (logged.size >= MAX_LOGGED_CLIENTS) logged.delete(logged.keys().next().value as string);
    logged.set(address, at);
    opts.log.warn({ client: address, listener }, 'client refused by --allow-client (further refusals of it are counted, logged at most once a minute)');
  };
  return {
    restricted: list !== undefined,
    allows(address, listener) {
      if (!list || list(address)) return true;
      refused[listener]++;
      tell(address, listener);
      return false;
    },
    refusals: () => ({ ...refused }),
  };
}

/**
 * Closes a refused client's connection without reading it. `http`: a bare 403 first, so a browser
 * or curl says why; the rest of what the client sends is discarded so the close is clean.
 */
export function refuseSocket(socket: Socket, http: boolean): void {
  socket.on('error', () => undefined);
  if (!http || socket.destroyed) return void socket.destroy();
  socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\nX-Leakwatch-Error: ${ERR.CLIENT_DENIED}\r\n\r\n`);
  socket.resume();
  setTimeout(() => socket.destroy(), 1000).unref();
}

/**
 * Screens `server`'s accepted connections before its own 'connection' listeners run (an HTTP
 * server would otherwise parse the refused client's requests, and each would become a row).
 * `admits` is asked once per connection; sockets it refuses are closed by refuseSocket.
 */
export function screenConnections(server: Server, admits: (socket: Socket) => boolean, http: boolean): void {
  const emit = server.emit.bind(server) as (event: string | symbol, ...args: unknown[]) => boolean;
  server.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event === 'connection' && !admits(args[0] as Socket)) {
      refuseSocket(args[0] as Socket, http);
      return true;
    }
    return emit(event, ...args);
  }) as typeof server.emit;
}
