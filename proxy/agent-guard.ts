/**
 * The guard on every upstream socket, at the agents (http, https, ws, wss all dial through them).
 *
 * - Pivots (upstream-policy.ts): an IP literal the policy forbids is refused before a socket is
 *   created (Node dials literals without calling the lookup, so the lookup guard never sees them).
 *   Names are filtered by the guarded lookup; the connected peer is checked once more, so no lookup
 *   path (a library passing its own) can reach a forbidden address unnoticed.
 * - Loops (loop-guard.ts): the name checks cannot see a name that resolves to us (`/etc/hosts`: the
 *   machine's own name -> 127.0.0.1). Every socket is checked once connected, before a request
 *   byte is written, and destroyed with LW_LOOP when its peer is one of our listeners.
 */
import type http from 'node:http';
import { isIP, type Socket } from 'node:net';
import { ERR } from '../core/errors.js';
import type { LoopGuard } from './loop-guard.js';
import { targetForbidden, type UpstreamPolicy } from './upstream-policy.js';

type CreateConnection = (...args: unknown[]) => Socket | undefined;

export function guardAgent(agent: http.Agent, guard: LoopGuard, policy: UpstreamPolicy): void {
  const a = agent as unknown as { createConnection: CreateConnection };
  const create = a.createConnection.bind(agent);
  a.createConnection = (...args: unknown[]): Socket | undefined => {
    // Agents call createConnection(options, oncreate); options.host is the name the client asked for.
    const options = args[0] as { host?: string } | undefined;
    const oncreate = args[1];
    const host = typeof options === 'object' && options !== null ? (options.host ?? '') : '';
    const mapped = policy.isMapped(host);
    if (!mapped && isIP(host) !== 0 && policy.forbidsAddress(host) && typeof oncreate === 'function') {
      // The agent reports this to the request as a socket error: nothing is dialled.
      (oncreate as (err: Error) => void)(targetForbidden(host));
      return undefined;
    }
    const socket = create(...args);
    if (!socket) return socket;
    const check = (): void => {
      const address = socket.remoteAddress;
      const port = socket.remotePort;
      if (address === undefined || port === undefined) return;
      if (!mapped && policy.forbidsAddress(address)) socket.destroy(targetForbidden(`${host} (${address})`));
      else if (guard.isForbidden(address, port)) socket.destroy(Object.assign(new Error('upstream is this proxy'), { code: ERR.LOOP }));
    };
    if (socket.connecting) socket.prependOnceListener('connect', check);
    else check();
    return socket;
  };
}
