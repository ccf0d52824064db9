/**
 * Everything that dials upstream: one shared TLS context, keep-alive agents, and a lookup that
 * honours --resolve.
 *
 * One context: passing `ca:` per connection makes Node build a new SecureContext every time
 * (~30 ms each, measured on Node 20), so system roots + --upstream-ca are loaded once and that
 * context is handed to every upstream TLS connection. Upstream certificates are always verified.
 */
import type { LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net, { isIP, type LookupFunction } from 'node:net';
import tls from 'node:tls';
import { ERR } from '../core/errors.js';
import type { ResolveTarget } from './resolve-spec.js';
import { createUpstreamPolicy, guardLookup, systemLookup, type UpstreamPolicy } from './upstream-policy.js';

export interface Upstream {
  readonly httpAgent: http.Agent;
  readonly httpsAgent: https.Agent;
  readonly secureContext: tls.SecureContext;
  /** Where to dial for a requested host/port after --resolve (the name itself stays for TLS and Host). */
  dialTarget(host: string, port: number): { host: string; port: number };
  /** The lookup every upstream dial uses (--resolve, then --dns-upstream or the system). */
  readonly lookup: LookupFunction;
  /** Which targets may be dialled (loopback, link-local... refused unless --resolve / --allow-upstream). */
  readonly policy: UpstreamPolicy;
  /** Why the host a client named must not be dialled (upstream-policy.ts), or undefined. */
  refusal(host: string): string | undefined;
  /**
   * Hands an open TCP socket to `host` (the name a request will use) and `port` (the dialled port)
   * to the next new upstream connection for that pair, so a tunnel's pre-dial is not a wasted
   * round trip; unused after `ms`, it is closed.
   */
  park(host: string, port: number, socket: net.Socket, ms: number): void;
  destroy(): void;
}

export interface UpstreamOptions {
  readonly resolve?: ReadonlyMap<string, ResolveTarget>;
  readonly upstreamCaPems?: readonly string[];
  /** Idle time before a pooled keep-alive socket is dropped. */
  readonly freeSocketTimeoutMs?: number;
  /** Time a new upstream connection has to open (TCP, plus the TLS handshake for https). */
  readonly connectTimeoutMs?: number;
  /** Names not in --resolve: asked here instead of the system resolver (--dns-upstream). */
  readonly fallbackLookup?: LookupFunction;
  /** `--allow-upstream` CIDRs: otherwise refused ranges (loopback...) that may be dialled. */
  readonly allowUpstream?: readonly string[];
}

/**
 * A dns.lookup replacement: names in the --resolve map answer with their IP, the rest go to the
 * system resolver. Node 20 calls lookup with `{ all: true }` (autoSelectFamily), expecting an
 * array; older call shapes expect (err, address, family). Both are handled.
 */
export function makeLookup(resolve: ReadonlyMap<string, ResolveTarget> | undefined, fallback: LookupFunction): LookupFunction {
  return (hostname, options, callback) => {
    const mapped = resolve?.get(hostname.toLowerCase().replace(/\.$/, ''));
    if (!mapped) return fallback(hostname, options, callback);
    const family = isIP(mapped.host);
    if (options.all) {
      const list: LookupAddress[] = [{ address: mapped.host, family }];
      (callback as unknown as (err: null, addresses: LookupAddress[]) => void)(null, list);
    } else {
      callback(null, mapped.host, family);
    }
  };
}

export function createUpstream(opts: UpstreamOptions): Upstream {
  const secureContext = tls.createSecureContext({ ca: [...tls.rootCertificates, ...(opts.upstreamCaPems ?? [])] });
  const policy = createUpstreamPolicy({ allow: opts.allowUpstream ?? [], ...(opts.resolve ? { mapped: opts.resolve } : {}) });
  // Names outside --resolve: whatever they resolve to passes the policy before it is dialled.
  const lookup = makeLookup(opts.resolve, guardLookup(opts.fallbackLookup ?? systemLookup, policy));
  const timeout = opts.freeSocketTimeoutMs ?? 30_000;
  const common = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64, timeout, lookup, scheduling: 'lifo' as const };
  const httpAgent = new http.Agent(common);
  const httpsAgent = new https.Agent({ ...common, secureContext, rejectUnauthorized: true });
  const connectMs = opts.connectTimeoutMs ?? 10_000;
  const parked = new Map<string, Set<net.Socket>>();
  adoptParked(httpAgent, parked, false);
  adoptParked(httpsAgent, parked, true);
  boundConnect(httpAgent, connectMs, 'connect');
  boundConnect(httpsAgent, connectMs, 'secureConnect');
  return {
    httpAgent,
    httpsAgent,
    secureContext,
    lookup,
    policy,
    refusal: (host) => policy.refusal(host),
    dialTarget(host, port) {
      const mapped = opts.resolve?.get(host);
      return { host: mapped?.host ?? host, port: mapped?.port ?? port };
    },
    park(host, port, socket, ms) {
      const key = parkKey(host, port);
      const set = parked.get(key) ?? new Set<net.Socket>();
      parked.set(key, set);
      set.add(socket);
      const drop = (): void => {
        clearTimeout(timer);
        set.delete(socket);
        if (set.size === 0 && parked.get(key) === set) parked.delete(key);
      };
      const timer = setTimeout(() => socket.destroy(), ms);
      timer.unref();
      socket.on('error', () => undefined);
      socket.once('close', drop);
      // Taken by a connection: no longer ours to expire.
      socket.once('adopted', drop);
    },
    destroy() {
      for (const set of parked.values()) for (const socket of set) socket.destroy();
      parked.clear();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

type CreateConnection = (...args: unknown[]) => net.Socket;

function parkKey(host: string, port: number): string {
  return `${host.toLowerCase()}|${port}`;
}

/**
 * A new connection for a parked pair takes the parked socket: plain HTTP uses it as is, HTTPS
 * runs its TLS handshake over it (tls.connect's `socket` option). Anything else dials as usual.
 */
function adoptParked(agent: http.Agent, parked: Map<string, Set<net.Socket>>, secure: boolean): void {
  const a = agent as unknown as { createConnection: CreateConnection };
  const create = a.createConnection.bind(agent);
  a.createConnection = (...args: unknown[]): net.Socket => {
    const options = args[0] as { host?: string; port?: number | string } | undefined;
    const set = options ? parked.get(parkKey(String(options.host ?? ''), Number(options.port))) : undefined;
    const socket = set ? [...set].find((s) => !s.destroyed) : undefined;
    if (!socket || !options) return create(...args);
    socket.emit('adopted');
    socket.removeAllListeners('error');
    if (!secure) return socket;
    return create({ ...options, socket }, ...args.slice(1));
  };
}

/**
 * The connect timeout, separate from the idle timeout: an unreachable origin is known within
 * seconds, while an origin that holds a long-poll open is fine for minutes. Node has no connect
 * timeout of its own (a socket's timeout is idle time, and the request's idle timeout would also
 * run during the connect), so each new socket gets one timer, cleared once it is open. Pooled
 * sockets are already open and cost nothing per request.
 */
function boundConnect(agent: http.Agent, ms: number, openEvent: 'connect' | 'secureConnect'): void {
  const a = agent as unknown as { createConnection: CreateConnection };
  const create = a.createConnection.bind(agent);
  a.createConnection = (...args: unknown[]): net.Socket => {
    const socket = create(...args);
    // An adopted, already open plain socket: there is no connect left to time.
    if (openEvent === 'connect' && !socket.connecting) return socket;
    const timer = setTimeout(() => {
      socket.destroy(Object.assign(new Error(`could not connect upstream within ${ms} ms`), { code: ERR.UPSTREAM_TIMEOUT }));
    }, ms);
    const done = (): void => clearTimeout(timer);
    socket.once(openEvent, done);
    socket.once('close', done);
    return socket;
  };
}
