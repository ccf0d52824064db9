/**
 * The decision point before a request is forwarded. The proxy asks the gate about every request
 * head (and, when the gate asks for it, the buffered body) before anything is sent upstream, so
 * enforcement (block, neutralize, strip, hold) can happen. The default gate forwards everything.
 *
 * A gate must answer quickly for the common case: return a plain value (not a Promise) unless it
 * really has to wait (hold-and-ask), so the hot path stays synchronous.
 */
import { headerValue, type Decision, type Peer, type RawHeaders } from './exchange.js';

export interface RequestHead {
  readonly method: string;
  readonly url: string;
  readonly scheme: 'http' | 'https' | 'ws' | 'wss';
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly headers: RawHeaders;
  readonly client: Peer;
  /**
   * HTTP requests only: buffers the whole request body (up to the capture cap) so the gate can
   * judge it before anything is forwarded; undefined when it is larger than the cap. The proxy then
   * forwards the buffered bytes. A gate calls it only when it has to wait anyway (hold-and-ask):
   * buffering delays the request by the client's upload time.
   */
  readonly readBody?: () => Promise<Buffer | undefined>;
}

export interface BodyRewrite {
  readonly headers: RawHeaders;
  readonly body: Buffer;
}

export type GateDecision =
  | {
      readonly type: 'forward';
      readonly applied?: Decision;
      /** Replace the request headers (e.g. strip Referer, generic User-Agent). */
      readonly headers?: RawHeaders;
      /** Replace the path and query sent upstream (e.g. without a tracking parameter). */
      readonly path?: string;
      /**
       * Buffer the whole request body (up to the capture cap) and rewrite it before forwarding.
       * The proxy fixes Content-Length; the function returns the new headers and body.
       */
      readonly rewriteBody?: (body: Buffer, headers: RawHeaders) => BodyRewrite;
      /** WebSocket upgrades only: asked about every message before it is relayed. */
      readonly onMessage?: (m: WsMessage) => WsMessageDecision;
    }
  | {
      readonly type: 'respond';
      readonly applied: Decision;
      readonly status: number;
      readonly headers: RawHeaders;
      readonly body: Buffer;
    }
  | { readonly type: 'close'; readonly applied: Decision };

export interface WsMessage {
  readonly data: Buffer;
  readonly binary: boolean;
  /** true: server to client. */
  readonly fromServer: boolean;
}

/** Relay the message (optionally rewritten), or drop it; `applied` is recorded on its exchange. */
export type WsMessageDecision =
  | { readonly type: 'forward'; readonly data?: Buffer; readonly applied?: Decision }
  | { readonly type: 'drop'; readonly applied: Decision };

export interface RequestGate {
  decide(head: RequestHead): GateDecision | Promise<GateDecision>;
}

export const FORWARD: GateDecision = Object.freeze({ type: 'forward' });
export const allowAll: RequestGate = { decide: () => FORWARD };

/**
 * A CORS preflight (`OPTIONS` with `Access-Control-Request-Method`) announces a request the
 * browser wants to send next: this is that request's head (same URL and headers, the announced
 * method), so rules judge the preflight like the request. Undefined for anything else.
 */
export function announcedRequest(head: RequestHead): RequestHead | undefined {
  if (head.method.toUpperCase() !== 'OPTIONS') return undefined;
  const method = headerValue(head.headers, 'access-control-request-method')?.trim().toUpperCase();
  return method ? { ...head, method } : undefined;
}
