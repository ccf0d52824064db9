/**
 * WebSocket /api/stream. Frames (JSON text):
 *   {"type":"hello","batchMs":100,"serverTime":"…"}
 *   {"type":"flows","items":[FlowItem…]}            oldest first, one frame per 100 ms batch
 *   {"type":"gap","missed":N|null}                   N items skipped (null: unknown); refetch /api/flows
 *   {"type":"hold","hold":HeldItem}                  a request waits for a decision (POST /api/holds/:id)
 *   {"type":"hold-resolved","id":N,"outcome":{…}}    it was answered, or timed out
 * `?since=ID` replays what came after ID from the hub's ring, then from the store.
 *
 * Back-pressure: a client whose ws.bufferedAmount is over `softLimit` is skipped (counted, later
 * told with a gap marker); one over `hardLimit`, or over the soft limit for `slowMs`, is closed.
 * Sends never wait, so a stalled browser costs memory bounded by hardLimit, never proxy time.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../core/log.js';
import { authenticate, hostAllowed, originAllowed, type AccessPolicy } from './access.js';
import type { DataSource, FlowItem } from './data-source.js';
import type { StreamHub } from './hub.js';

export interface StreamLimits {
  softLimit: number;
  hardLimit: number;
  slowMs: number;
  replayMax: number;
}

const DEFAULT_LIMITS: StreamLimits = { softLimit: 1 << 20, hardLimit: 8 << 20, slowMs: 30_000, replayMax: 2000 };

interface Client {
  readonly ws: WebSocket;
  ready: boolean;
  held: FlowItem[];
  missed: number;
  slowSince: number | null;
}

export interface StreamServer {
  stats(): Record<string, number>;
  /** One JSON frame to every connected client now (hold-and-ask messages: they cannot wait). */
  broadcast(message: object): void;
  close(): void;
}

function refuse(socket: Duplex, code: number, reason: string): void {
  socket.end(`HTTP/1.1 ${code} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

export function attachStream(
  server: Server,
  deps: { hub: StreamHub; data: DataSource; policy: () => AccessPolicy; log: Logger; limits?: Partial<StreamLimits> },
): StreamServer {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
  const clients = new Set<Client>();
  const stats = { connected: 0, refused: 0, coalescedBatches: 0, droppedClients: 0 };

  /** `frame`: the batch's JSON text, or its UTF-8 bytes (encoded once for every client). */
  const send = (c: Client, items: readonly FlowItem[], frame: string | Buffer): void => {
    const buffered = c.ws.bufferedAmount;
    if (buffered > limits.hardLimit || (c.slowSince !== null && Date.now() - c.slowSince > limits.slowMs)) {
      stats.droppedClients++;
      c.ws.close(1013, 'too slow');
      clients.delete(c);
      return;
    }
    if (buffered > limits.softLimit) {
      c.slowSince ??= Date.now();
      c.missed += items.length;
      stats.coalescedBatches++;
      return;
    }
    c.slowSince = null;
    if (c.missed > 0) {
      c.ws.send(JSON.stringify({ type: 'gap', missed: c.missed }));
      c.missed = 0;
    }
    // A text frame either way (ws would otherwise send a Buffer as binary).
    if (items.length > 0) c.ws.send(frame, { binary: false });
  };

  const unsubscribe = deps.hub.subscribe((items, frame) => {
    // ws turns a string into UTF-8 on every send: do it once per batch, not once per client.
    let bytes: Buffer | undefined;
    for (const c of clients) {
      if (c.ready) send(c, items, (bytes ??= Buffer.from(frame, 'utf8')));
      else if (c.held.length < limits.replayMax) c.held.push(...items);
      else c.missed += items.length;
    }
  });

  const replay = async (c: Client, since: number): Promise<void> => {
    const fromRing = deps.hub.since(since);
    let items = fromRing.items;
    let unknownGap = false;
    if (!fromRing.complete) {
      const stored = await deps.data.flowsAfter(since, limits.replayMax);
      const inRing = new Set(items.map((f) => f.id));
      items = [...stored.filter((f) => !inRing.has(f.id)), ...items];
      unknownGap = stored.length >= limits.replayMax;
    }
    const seen = new Set(items.map((f) => f.id));
    const held = c.held.filter((f) => !seen.has(f.id));
    items = [...items, ...held];
    if (items.length > limits.replayMax) {
      c.missed += items.length - limits.replayMax;
      items = items.slice(-limits.replayMax);
    }
    if (unknownGap) c.ws.send(JSON.stringify({ type: 'gap', missed: null }));
    c.held = [];
    c.ready = true;
    if (items.length > 0 || c.missed > 0) send(c, items, JSON.stringify({ type: 'flows', items }));
  };

  const onConnection = (ws: WebSocket, since: number | undefined): void => {
    const c: Client = { ws, ready: since === undefined, held: [], missed: 0, slowSince: null };
    clients.add(c);
    stats.connected++;
    ws.on('close', () => clients.delete(c));
    ws.on('error', () => clients.delete(c));
    ws.on('message', () => undefined); // clients have nothing to say; maxPayload caps abuse
    ws.send(JSON.stringify({ type: 'hello', batchMs: deps.hub.options.batchMs, serverTime: new Date().toISOString() }));
    if (since !== undefined) {
      replay(c, since).catch((err: unknown) => {
        deps.log.warn({ err }, 'dashboard: stream replay failed');
        c.ready = true;
        ws.send(JSON.stringify({ type: 'gap', missed: null }));
      });
    }
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const policy = deps.policy();
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/api/stream') return refuse(socket, 404, 'Not Found');
    if (!hostAllowed(policy, req.headers.host)) return (stats.refused++, refuse(socket, 421, 'Misdirected Request'));
    // Browsers always send Origin on WebSocket handshakes; a missing one means a non-browser client.
    const origin = req.headers.origin;
    if (origin !== undefined && !originAllowed(policy, origin)) return (stats.refused++, refuse(socket, 403, 'Forbidden'));
    if (authenticate(policy, req) === null) return (stats.refused++, refuse(socket, 401, 'Unauthorized'));
    const rawSince = url.searchParams.get('since');
    const since = rawSince !== null && /^\d{1,15}$/.test(rawSince) ? Number(rawSince) : undefined;
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, since));
  };
  server.on('upgrade', onUpgrade);

  const ping = setInterval(() => {
    for (const c of clients) if (c.ws.readyState === c.ws.OPEN) c.ws.ping();
  }, 30_000);
  ping.unref();
  // A client that caught up while nothing new was published still learns what it missed.
  const catchUp = setInterval(() => {
    for (const c of clients) {
      if (c.ready && c.missed > 0 && c.ws.bufferedAmount <= limits.softLimit) send(c, [], '{"type":"flows","items":[]}');
    }
  }, 1000);
  catchUp.unref();

  return {
    stats: () => ({ clients: clients.size, ...stats }),
    broadcast(message) {
      const frame = JSON.stringify(message);
      for (const c of clients) if (c.ws.readyState === c.ws.OPEN && c.ws.bufferedAmount <= limits.hardLimit) c.ws.send(frame);
    },
    close() {
      clearInterval(ping);
      clearInterval(catchUp);
      unsubscribe();
      server.off('upgrade', onUpgrade);
      for (const c of clients) c.ws.terminate();
      clients.clear();
      wss.close();
    },
  };
}
