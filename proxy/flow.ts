/**
 * Per-request state the adapter keeps next to the library's `ctx`: what we will record, the body
 * tees, the upstream idle timer. Attached in our onRequest hook, read by the final filters
 * (filters.ts) and by the error handler, so the library's objects never carry our data.
 */
import type { ClientRequest, ServerResponse } from 'node:http';
import { ERR, type ErrorCode } from '../core/errors.js';
import type { Decision, ExchangeError, Peer, RawHeaders, RequestPart, TlsFacts } from '../core/exchange.js';
import { BodyTee } from './tee.js';

export interface LocalResponse {
  readonly status: number;
  readonly statusMessage: string;
  readonly headers: RawHeaders;
  readonly body: Buffer;
}

export interface FlowInit {
  readonly id: number;
  readonly startedAt: number;
  readonly client: Peer;
  readonly request: Omit<RequestPart, 'body'>;
  readonly tls?: TlsFacts;
  readonly captureLimit: number;
  readonly idleTimeoutMs: number;
}

export class Flow {
  readonly requestTee: BodyTee;
  readonly responseTee: BodyTee;
  decision?: Decision;
  error?: ExchangeError;
  /** Set when the gate rewrote the body: the filter sends this instead of the client's bytes. */
  bodyOverride?: Buffer;
  /** Set when we answered ourselves (gate, errors): recorded instead of an upstream response. */
  localResponse?: LocalResponse;
  recorded = false;
  /** True while a slow client drains: then the client's idle time is what counts. */
  waitingOnClient = false;
  #upstream?: ClientRequest;

  constructor(readonly init: FlowInit) {
    this.requestTee = new BodyTee(init.captureLimit);
    this.responseTee = new BodyTee(init.captureLimit);
  }

  /** The first failure wins: later errors are usually consequences of it. */
  fail(code: ErrorCode, message: string): void {
    if (!this.error) this.error = { code, message };
  }

  /**
   * Called by our request filter right after the library created the upstream request. The
   * upstream idle timeout (the library had none: a hung origin hung the client forever) is the
   * request's `timeout` option, set in request.ts: Node applies it to the socket itself (it is
   * idle time: any byte restarts it, so a streaming response is never cut). The connect timeout
   * is the agents' (upstream.ts). We only listen for the timeout.
   * The loop check on the socket's real peer lives in agent-guard.ts: every upstream socket comes
   * from our guarded agents (request.ts always sets one) and is checked once, when it connects,
   * instead of once per request.
   */
  attachUpstream(req: ClientRequest, res: ServerResponse): void {
    this.#upstream = req;
    relayInterim(req, res);
    req.on('timeout', () => {
      this.fail(ERR.UPSTREAM_TIMEOUT, `no data from upstream for ${this.init.idleTimeoutMs} ms`);
      req.destroy(Object.assign(new Error('upstream timeout'), { code: ERR.UPSTREAM_TIMEOUT }));
    });
    // A 101 to a request that asked for no upgrade: Node hands over the raw socket and the
    // response never comes; the client hung until its own timeout. A prompt 502 instead.
    req.on('upgrade', (_res: unknown, socket: { destroy(): void }) => {
      socket.destroy();
      req.emit('error', Object.assign(new Error('upstream switched protocols (101) on a request that asked for no upgrade'), { code: ERR.UPSTREAM_PROTOCOL }));
    });
  }

  get upstream(): ClientRequest | undefined {
    return this.#upstream;
  }

  /**
   * While we wait for a slow client to drain, we stop reading upstream on purpose; that silence
   * must not count as an upstream timeout.
   */
  suspendUpstreamTimer(): void {
    this.waitingOnClient = true;
    this.#upstream?.socket?.setTimeout(0);
  }

  resumeUpstreamTimer(): void {
    this.waitingOnClient = false;
    const socket = this.#upstream?.socket;
    if (socket && !socket.destroyed) socket.setTimeout(this.init.idleTimeoutMs);
  }
}

/**
 * 1xx answers of the origin, passed on: 103 Early Hints (the client may preload while the origin
 * works) and 100 Continue. The client's `Expect: 100-continue` travels upstream (the servers no
 * longer answer it themselves, harden.ts), so the origin decides: its 100 lets the client send the
 * body, its early final answer (401, 413) spares the upload. Node keeps the head of a request
 * with Expect until the first body byte, which the client withholds: it is flushed here.
 */
function relayInterim(req: ClientRequest, res: ServerResponse): void {
  req.on('information', (info: { statusCode: number; rawHeaders: string[] }) => {
    if (res.headersSent || res.destroyed) return;
    if (info.statusCode === 100) return void res.writeContinue();
    if (info.statusCode === 103) {
      const hints: Record<string, string | string[]> = {};
      for (let i = 0; i + 1 < info.rawHeaders.length; i += 2) {
        const k = info.rawHeaders[i]!.toLowerCase();
        const v = info.rawHeaders[i + 1]!;
        const had = hints[k];
        hints[k] = had === undefined ? v : ([] as string[]).concat(had, v);
      }
      if (hints['link'] !== undefined) res.writeEarlyHints(hints as Record<string, string | string[]> & { link: string | string[] });
    }
  });
  if (String(req.getHeader('expect') ?? '').toLowerCase() === '100-continue') req.flushHeaders();
}

const flows = new WeakMap<object, Flow>();

export function attachFlow(ctx: object, flow: Flow): void {
  flows.set(ctx, flow);
}

export function flowOf(ctx: object): Flow | undefined {
  return flows.get(ctx);
}
