/**
 * The DNS server: UDP and TCP on one port. Every query becomes an Exchange of kind
 * 'dns'; ruled names are answered with leakwatch's own address (or blocked), the rest is forwarded
 * to the one upstream resolver and cached. Input never throws: malformed packets are dropped.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Server } from 'node:net';
import { ConfigError } from '../../core/errors.js';
import type { Exchange, ExchangeError, Peer } from '../../core/exchange.js';
import { EMPTY_BODY } from '../../core/exchange.js';
import type { Logger } from '../../core/log.js';
import type { ClientPolicy } from '../client-policy.js';
import { DnsCache } from './cache.js';
import type { CoversName } from './coverage.js';
import { isOwnAddress } from './self.js';
import type { RecentAnswers } from './recent-answers.js';
import { resolveQuery, type DnsMeta } from './resolve.js';
import { createTcpServer } from './tcp.js';
import { createForwarder } from './upstream.js';
import { fitUdp, parseQuery, type Query } from './wire.js';

export { ruleCoverage, type Coverage, type CoversName } from './coverage.js';

export interface DnsServerOptions {
  readonly host: string;
  readonly port: number;
  /** An IP literal: the forwarder never resolves names. */
  readonly upstream: { readonly host: string; readonly port: number };
  /** leakwatch's own address, answered for ruled names. */
  readonly interceptAddress: { readonly v4: string; readonly v6?: string };
  readonly coversName: CoversName;
  readonly nextId: () => number;
  readonly onExchange: (ex: Exchange) => void;
  readonly log: Logger;
  readonly cacheMax?: number;
  /** Shared with the STUN sensor: which intercepted name each client resolved last. */
  readonly recentAnswers?: RecentAnswers;
  /** Per UDP try to the upstream (one retry follows); default 2000. */
  readonly upstreamTimeoutMs?: number;
  readonly maxTcpConnections?: number;
  readonly tcpIdleMs?: number;
  /**
   * The client policy shared with every listener. A refused client gets silence (no REFUSED
   * answer: nothing to reflect at a spoofed source, nothing learned), is counted, never recorded.
   */
  readonly clients?: Pick<ClientPolicy, 'allows'>;
}

export interface DnsStats {
  queries: number;
  /** Datagrams and TCP connections from clients outside --allow-client (dropped unanswered). */
  refused: number;
  dropped: number;
  intercepted: number;
  blocked: number;
  forwarded: number;
  cached: number;
  servfail: number;
  tcpClosedBad: number;
  cacheSize: number;
}

export interface DnsServer {
  readonly port: number;
  close(): Promise<void>;
  stats(): DnsStats;
}

const URL_UNSAFE = /[^a-z0-9._*-]/g;

function dnsExchange(id: number, startedAt: number, client: Peer, q: Query, meta: DnsMeta, error?: ExchangeError): Exchange {
  const host = q.name.toLowerCase();
  const urlHost = host.replace(URL_UNSAFE, (c) => encodeURIComponent(c)) || '.';
  return {
    id, kind: 'dns', listener: 'dns', startedAt, endedAt: Date.now(), client,
    request: {
      method: 'QUERY', url: `dns://${urlHost}/${q.qtype}`, scheme: 'dns', host, port: 53, path: `/${q.qtype}`,
      httpVersion: '', headers: [], body: EMPTY_BODY,
    },
    ...(error ? { error } : {}),
    meta,
  };
}

function bindUdp(host: string, port: number): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4', reuseAddr: false });
    sock.once('error', reject);
    sock.bind(port, host, () => {
      sock.off('error', reject);
      resolve(sock);
    });
  });
}

function listenTcp(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  if (isIP(opts.upstream.host) === 0) throw new ConfigError(`--dns-upstream must be an IP address, got "${opts.upstream.host}"`);
  const stats: Omit<DnsStats, 'cacheSize'> = { queries: 0, refused: 0, dropped: 0, intercepted: 0, blocked: 0, forwarded: 0, cached: 0, servfail: 0, tcpClosedBad: 0 };
  const cache = new DnsCache(opts.cacheMax ?? 2048);
  let boundPort = opts.port;
  const forwarder = createForwarder({
    upstream: opts.upstream,
    timeoutMs: opts.upstreamTimeoutMs ?? 2000,
    isSelf: () => opts.upstream.port === boundPort && isOwnAddress(opts.host, opts.upstream.host),
    maxInFlight: 512,
  });
  const deps = { coversName: opts.coversName, interceptAddress: opts.interceptAddress, forward: forwarder.forward, cache, now: Date.now, ...(opts.recentAnswers ? { recentAnswers: opts.recentAnswers } : {}) };

  const allowed = (address: string): boolean => {
    if (!opts.clients || opts.clients.allows(address, 'dns')) return true;
    stats.refused++;
    return false;
  };

  /** null = not a query: dropped (UDP) or the connection closed (TCP). */
  const handle = (msg: Buffer, client: Peer, udp: boolean): Promise<Buffer | null> | null => {
    const q = parseQuery(msg);
    if (!q) {
      stats.dropped++;
      return null;
    }
    stats.queries++;
    const startedAt = Date.now();
    return resolveQuery(q, msg, client.address, deps).then(
      (r) => {
        stats[r.outcome]++;
        try {
          opts.onExchange(dnsExchange(opts.nextId(), startedAt, client, q, r.meta, r.error));
        } catch (err: unknown) {
          opts.log.error({ err, listener: 'dns' }, 'recording a DNS exchange failed');
        }
        return udp ? fitUdp(q, r.response) : r.response;
      },
      (err: unknown) => {
        opts.log.error({ err, listener: 'dns' }, 'DNS query handling failed');
        return null;
      },
    );
  };

  const { server: tcp, destroyAll } = createTcpServer({
    maxConnections: opts.maxTcpConnections ?? 64,
    idleMs: opts.tcpIdleMs ?? 10_000,
    maxQueryBytes: 4096,
    maxPipelined: 32,
    handle: (msg, client) => handle(msg, client, false),
    onBad: () => void stats.tcpClosedBad++,
    allows: (address) => allowed(address),
  });
  // UDP first (it picks the port when 0), then TCP on the same port; with port 0 a clash retries
  let bound: UdpSocket | undefined;
  for (let attempt = 0; !bound; attempt++) {
    const u = await bindUdp(opts.host, opts.port);
    boundPort = u.address().port;
    try {
      await listenTcp(tcp, opts.host, boundPort);
      bound = u;
    } catch (err: unknown) {
      u.close();
      if (opts.port !== 0 || attempt >= 4) throw err;
    }
  }
  const udp = bound;
  tcp.on('error', (err) => opts.log.warn({ err, listener: 'dns' }, 'DNS TCP server error'));
  udp.on('error', (err) => opts.log.warn({ err, listener: 'dns' }, 'DNS UDP socket error'));
  udp.on('message', (msg, rinfo) => {
    if (!allowed(rinfo.address)) return;
    const client = { address: rinfo.address, port: rinfo.port };
    void handle(msg, client, true)?.then((out) => {
      if (out) udp.send(out, rinfo.port, rinfo.address, () => undefined);
    });
  });
  if (opts.upstream.port === boundPort && isOwnAddress(opts.host, opts.upstream.host)) {
    opts.log.warn({ listener: 'dns', upstream: opts.upstream }, 'the DNS upstream is this server: forwarded queries get SERVFAIL');
  }
  opts.log.info({ listener: 'dns', host: opts.host, port: boundPort }, 'DNS server listening (UDP and TCP)');

  return {
    port: boundPort,
    stats: () => ({ ...stats, cacheSize: cache.size }),
    close: () =>
      new Promise<void>((resolve) => {
        let left = 2;
        const one = (): void => void (--left === 0 && resolve());
        udp.close(one);
        tcp.close(() => one());
        destroyAll();
      }),
  };
}
