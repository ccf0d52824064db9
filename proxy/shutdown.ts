/**
 * Graceful close. The library's close() only calls server.close(): keep-alive sockets and agents
 * stay open and test runners hang. Here: stop accepting, drop idle keep-alive connections,
 * let in-flight exchanges finish for up to graceMs, then destroy what is left and the agents.
 */
import type http from 'node:http';
import type { EngineContext } from './engine-context.js';
import type { LibProxy } from './lib-types.js';
import type { WsRelay } from './ws.js';

function closeServer(server: http.Server | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!server || !server.listening) return resolve();
    server.close(() => resolve());
  });
}

export async function shutdown(ec: EngineContext, lib: LibProxy, ws: WsRelay, graceMs: number): Promise<void> {
  const closed = closeServer(ec.outer);
  ec.outer.closeIdleConnections();
  ec.inner.closeIdleConnections();
  const deadline = Date.now() + graceMs;
  while (ec.active > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    ec.outer.closeIdleConnections();
    ec.inner.closeIdleConnections();
  }
  ws.closeAll();
  ec.outer.closeAllConnections();
  ec.inner.closeAllConnections();
  for (const socket of ec.sockets) socket.destroy();
  ec.sockets.clear();
  for (const wss of [lib.wsServer, lib.wssServer]) wss?.close();
  ec.upstream.destroy();
  await closed;
}
