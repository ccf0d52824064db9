/**
 * The STUN sensor: UDP listeners on STUN ports (3478, 19302, …). Each STUN request
 * (RFC 8489 §6.3) becomes an Exchange of kind 'stun': who asked (the client's address is what a
 * STUN server learns), and which server name it was meant for, from the DNS answer that sent the
 * client here. With `respond` it answers Binding requests as a STUN server would (§7.3.1) so calls
 * keep working; without (enforce + block) it stays silent. Non-STUN datagrams are counted and
 * dropped; recording is rate-limited per client.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Exchange } from '../../core/exchange.js';
import { EMPTY_BODY } from '../../core/exchange.js';
import type { Logger } from '../../core/log.js';
import type { ClientPolicy } from '../client-policy.js';
import { clientKey, type RecentAnswers } from '../dns/recent-answers.js';
import { encodeBindingSuccess, parseStun, type StunMessage } from './parse.js';
import { createRateLimiter } from './rate.js';

export interface StunSensorOptions {
  readonly host: string;
  readonly ports: readonly number[];
  /**
   * observe: answer Binding requests so calls work; enforce + block: drop them. Asked per request,
   * so rule reloads and dashboard overrides apply at once.
   */
  readonly respond: () => boolean;
  /** The client policy shared with every listener: a refused client gets no answer, and is counted. */
  readonly clients?: Pick<ClientPolicy, 'allows'>;
  readonly recentAnswers?: RecentAnswers;
  readonly nextId: () => number;
  readonly onExchange: (ex: Exchange) => void;
  readonly log: Logger;
  /** Recording limit per client address: burst, then per second. Defaults 20 and 5. */
  readonly recordBurst?: number;
  readonly recordPerSecond?: number;
}

export interface StunStats {
  /** Datagrams from clients outside --allow-client (dropped: no reflection, no record). */
  refused: number;
  requests: number;
  answered: number;
  recorded: number;
  /** Requests not recorded because the client exceeded its rate. */
  suppressed: number;
  /** Datagrams that are not RFC 5389/8489 STUN. */
  nonStun: number;
  /** STUN responses and indications (nothing to record or answer). */
  ignored: number;
}

export interface StunSensor {
  /** Bound ports, in the order of `ports` (0 becomes the port the system chose). */
  readonly ports: readonly number[];
  close(): Promise<void>;
  stats(): StunStats;
}

function bind(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
    sock.once('error', reject);
    sock.bind(port, host, () => {
      sock.off('error', reject);
      resolve(sock);
    });
  });
}

const urlHost = (h: string): string => (h.includes(':') ? `[${h}]` : h);

function stunExchange(id: number, at: number, msg: StunMessage, rinfo: RemoteInfo, host: string, port: number, meantFor: string | null, answered: boolean): Exchange {
  return {
    id, kind: 'stun', listener: 'stun', startedAt: at, endedAt: Date.now(),
    client: { address: clientKey(rinfo.address), port: rinfo.port },
    request: {
      method: msg.methodName.toUpperCase(), url: `stun://${urlHost(host)}:${port}`, scheme: 'stun', host, port, path: '/',
      httpVersion: '', headers: [], body: EMPTY_BODY,
    },
    meta: {
      transactionId: msg.transactionIdHex, software: msg.software, username: msg.username,
      type: `${msg.methodName} ${msg.class}`, meantFor, answered,
      attributes: msg.attributes.map((a) => a.name).join(','),
    },
  };
}

export async function startStunSensor(opts: StunSensorOptions): Promise<StunSensor> {
  const stats: StunStats = { refused: 0, requests: 0, answered: 0, recorded: 0, suppressed: 0, nonStun: 0, ignored: 0 };
  const limiter = createRateLimiter({ burst: opts.recordBurst ?? 20, perSecond: opts.recordPerSecond ?? 5, maxClients: 4096 });
  const sockets: Socket[] = [];

  const onMessage = (sock: Socket, port: number) => (buf: Buffer, rinfo: RemoteInfo): void => {
    if (opts.clients && !opts.clients.allows(rinfo.address, 'stun')) {
      stats.refused++;
      return;
    }
    const at = Date.now();
    const parsed = parseStun(buf);
    if (!parsed.ok) {
      stats.nonStun++;
      return;
    }
    const msg = parsed.message;
    if (msg.class !== 'request') {
      stats.ignored++;
      return;
    }
    stats.requests++;
    const client = clientKey(rinfo.address);
    let answered = false;
    if (msg.methodName === 'binding' && opts.respond()) {
      // §7.3.1: the reflexive transport address is the source of the request
      const out = encodeBindingSuccess(msg, client, rinfo.port);
      if (out) {
        sock.send(out, rinfo.port, rinfo.address, () => undefined);
        answered = true;
        stats.answered++;
      }
    }
    if (!limiter.allow(client, at)) {
      stats.suppressed++;
      return;
    }
    const meantFor = opts.recentAnswers?.latest(client, { now: at })?.name ?? null;
    try {
      opts.onExchange(stunExchange(opts.nextId(), at, msg, rinfo, meantFor ?? opts.host, port, meantFor, answered));
      stats.recorded++;
    } catch (err: unknown) {
      opts.log.error({ err, listener: 'stun' }, 'recording a STUN exchange failed');
    }
  };

  try {
    for (const p of opts.ports) {
      const sock = await bind(opts.host, p);
      sockets.push(sock);
      const port = sock.address().port;
      sock.on('error', (err) => opts.log.warn({ err, listener: 'stun', port }, 'STUN socket error'));
      sock.on('message', onMessage(sock, port));
    }
  } catch (err: unknown) {
    for (const s of sockets) s.close();
    throw err;
  }
  const ports = sockets.map((s) => s.address().port);
  opts.log.info({ listener: 'stun', host: opts.host, ports }, 'STUN sensor listening');
  return {
    ports,
    stats: () => ({ ...stats }),
    close: () => Promise.all(sockets.map((s) => new Promise<void>((res) => s.close(() => res())))).then(() => undefined),
  };
}
