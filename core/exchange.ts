/**
 * The exchange record: one normalised, read-only description of something a client sent and what
 * came back. It is built once at the edge (proxy/, its DNS and STUN listeners) and then
 * travels the whole pipeline: decode -> classify -> extract -> act -> record -> stream.
 *
 * Terminology
 * - host: the name (or IP literal) the client asked for, lower-case, no port, no brackets.
 * - url: absolute URL as the client meant it (https://host[:port]/path?query), never a fragment.
 * - raw headers: [name, value] pairs in wire order and case, duplicates kept.
 * - capture: a copy of body bytes kept for inspection, capped; the real body streams through whole.
 */

export type RawHeaders = ReadonlyArray<readonly [name: string, value: string]>;

/** Body bytes kept for inspection. `size` counts every byte that passed, `bytes` at most the cap. */
export interface BodyCapture {
  readonly bytes: Buffer;
  readonly size: number;
  readonly truncated: boolean;
}

export const EMPTY_BODY: BodyCapture = Object.freeze({ bytes: Buffer.alloc(0), size: 0, truncated: false });

export interface Peer {
  readonly address: string;
  readonly port: number;
}

/**
 * - http: one request/response pair (HTTP or HTTPS).
 * - websocket: one WebSocket message; `request` is the upgrade request it travelled on.
 * - tls-failure: a client refused our certificate (pinned app) or TLS broke before any request.
 * - dns / stun: records from the DNS server and the STUN sensor.
 */
export type ExchangeKind = 'http' | 'websocket' | 'tls-failure' | 'dns' | 'stun';

export interface RequestPart {
  readonly method: string;
  /** Absolute URL (scheme://host[:port]/path?query). */
  readonly url: string;
  readonly scheme: 'http' | 'https' | 'ws' | 'wss' | 'dns' | 'stun';
  readonly host: string;
  readonly port: number;
  /** Path plus query, as sent on the wire. */
  readonly path: string;
  readonly httpVersion: string;
  readonly headers: RawHeaders;
  readonly body: BodyCapture;
}

export interface ResponsePart {
  readonly status: number;
  readonly statusMessage: string;
  readonly headers: RawHeaders;
  readonly body: BodyCapture;
}

export interface TlsFacts {
  /** SNI the client sent, if any. */
  readonly sni?: string;
  /** false for --passthrough hosts: tunnelled, never decrypted. */
  readonly intercepted: boolean;
  /** Negotiated protocol with the client (e.g. TLSv1.3). */
  readonly clientProtocol?: string;
}

export interface WebSocketMessage {
  /** Groups the messages of one WebSocket connection. */
  readonly connectionId: number;
  /** send = client to server, receive = server to client. */
  readonly direction: 'send' | 'receive';
  readonly binary: boolean;
  readonly data: BodyCapture;
}

export interface ExchangeError {
  /** Stable code, e.g. LW_UPSTREAM_TIMEOUT, LW_UPSTREAM_TLS, LW_CLIENT_ABORT (see core/errors.ts). */
  readonly code: string;
  readonly message: string;
}

/** What the act stage did to the request before it was forwarded (absent: allowed untouched). */
export interface AppliedVerdict {
  readonly verdict: import('./vocabulary.js').Verdict;
  readonly ruleId: string | null;
  readonly detail?: string;
}

export interface Exchange {
  /** Unique within a data dir; increasing in start order per process. */
  readonly id: number;
  readonly kind: ExchangeKind;
  /** Which listener saw it: proxy, transparent-https, transparent-http, dns, stun. */
  readonly listener: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly client: Peer;
  readonly request: RequestPart;
  readonly response?: ResponsePart;
  readonly tls?: TlsFacts;
  readonly websocket?: WebSocketMessage;
  readonly error?: ExchangeError;
  readonly applied?: AppliedVerdict;
  /** Free-form facts from specialised listeners (DNS answer, STUN attributes). */
  readonly meta?: Readonly<Record<string, string | number | boolean | null>>;
}

/** Case-insensitive lookup of the first header with this name. */
export function headerValue(headers: RawHeaders, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of headers) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** Case-insensitive lookup of all headers with this name, in order. */
export function headerValues(headers: RawHeaders, name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (const [k, v] of headers) if (k.toLowerCase() === lower) out.push(v);
  return out;
}

/** Node gives raw headers as a flat [k, v, k, v] array; this pairs them up. */
export function pairRawHeaders(flat: readonly string[]): RawHeaders {
  const out: Array<readonly [string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}
