/** Builds the core Exchange records from our per-request state. Pure apart from Date.now(). */
import { EMPTY_BODY, pairRawHeaders, type Exchange, type Peer, type RequestPart, type ResponsePart, type TlsFacts } from '../core/exchange.js';
import type { ExchangeError, AppliedVerdict } from '../core/exchange.js';
import { tunnelOf } from './engine-context.js';
import type { Flow } from './flow.js';
import type { LibCtx } from './lib-types.js';

export const LISTENER = 'proxy';

export function httpExchange(flow: Flow, ctx: LibCtx): Exchange {
  const init = flow.init;
  let response: ResponsePart | undefined;
  if (flow.localResponse) {
    const l = flow.localResponse;
    response = { status: l.status, statusMessage: l.statusMessage, headers: l.headers, body: flow.responseTee.size ? flow.responseTee.capture() : EMPTY_BODY };
  } else if (ctx.serverToProxyResponse) {
    const r = ctx.serverToProxyResponse;
    response = { status: r.statusCode ?? 0, statusMessage: r.statusMessage ?? '', headers: pairRawHeaders(r.rawHeaders), body: flow.responseTee.capture() };
  }
  return {
    id: init.id,
    kind: 'http',
    listener: tunnelOf(ctx.clientToProxyRequest?.socket)?.listener ?? LISTENER,
    startedAt: init.startedAt,
    endedAt: Date.now(),
    client: init.client,
    request: { ...init.request, body: flow.requestTee.capture() },
    ...(response ? { response } : {}),
    ...(init.tls ? { tls: init.tls } : {}),
    ...(flow.error ? { error: flow.error } : {}),
    ...(flow.applied ? { applied: flow.applied } : {}),
  };
}

export interface SimpleRecord {
  readonly id: number;
  readonly kind: 'http' | 'tls-failure';
  readonly startedAt: number;
  readonly client: Peer;
  readonly request: Omit<RequestPart, 'body'>;
  readonly status?: number;
  readonly statusMessage?: string;
  readonly tls?: TlsFacts;
  readonly error?: ExchangeError;
  readonly applied?: AppliedVerdict;
  readonly meta?: Exchange['meta'];
  /** Default: the proxy port. */
  readonly listener?: string;
}

/** For CONNECT tunnels, refusals and TLS failures: no bodies, maybe a status. */
export function simpleExchange(r: SimpleRecord): Exchange {
  return {
    id: r.id,
    kind: r.kind,
    listener: r.listener ?? LISTENER,
    startedAt: r.startedAt,
    endedAt: Date.now(),
    client: r.client,
    request: { ...r.request, body: EMPTY_BODY },
    ...(r.status !== undefined ? { response: { status: r.status, statusMessage: r.statusMessage ?? '', headers: [], body: EMPTY_BODY } } : {}),
    ...(r.tls ? { tls: r.tls } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(r.applied ? { applied: r.applied } : {}),
    ...(r.meta ? { meta: r.meta } : {}),
  };
}
