/**
 * The loop guard on every upstream socket, at the agents. The name checks (loop-guard.ts) cannot
 * see a name that resolves to us (`/etc/hosts`: the machine's own name -> 127.0.0.1; DNS rebinding
 * to a loopback or LAN address). HTTP flows checked the connected peer (flow.ts), but WebSocket
 * upgrades did not: `ws://<hostname>:<dashboard port>/` through the proxy reached the dashboard.
 * Every socket the agents open (http, https, ws, wss) is now checked once connected, before a
 * request byte is written, and destroyed with LW_LOOP when its peer is one of our listeners.
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import { ERR } from '../core/errors.js';
import type { LoopGuard } from './loop-guard.js';

type CreateConnection = (...args: unknown[]) => Socket;

export function guardAgent(agent: http.Agent, guard: LoopGuard): void {
  const a = agent as unknown as { createConnection: CreateConnection };
  const create = a.createConnection.bind(agent);
  a.createConnection = (...args: unknown[]): Socket => {
    const socket = create(...args);
    const check = (): void => {
      const address = socket.remoteAddress;
      const port = socket.remotePort;
      if (address !== undefined && port !== undefined && guard.isForbidden(address, port)) {
        socket.destroy(Object.assign(new Error('upstream is this proxy'), { code: ERR.LOOP }));
      }
    };
    if (socket.connecting) socket.prependOnceListener('connect', check);
    else check();
    return socket;
  };
}
