/** Builds the core Exchange records from our per-request state. Pure apart from Date.now(). */
import { EMPTY_BODY, pairRawHeaders, type Exchange, type RawHeaders, type Peer, type RequestPart, type ResponsePart, type TlsFacts } from '../core/exchange.js';
import type { ExchangeError, Decision } from '../core/exchange.js';
import { tunnelOf } from './engine-context.js';
import type { Flow } from './flow.js';
import type { LibCtx } from './lib-types.js';

export const LISTENER = 'proxy';

// The dashboard's own session cookie (`leakwatch_token_<port>`, dashboard/access.ts) holds the
// token that opens the whole capture. A browser whose traffic goes through the proxy sends it on
// its way to the dashboard: it is forwarded untouched, but never enters a record, so neither the
// audit, the store, the stream nor an export ever holds it.
const OWN_COOKIE = /^\s*leakwatch_token_\d+\s*=/i;

function withoutOwnCookie(headers: RawHeaders): RawHeaders {
  let out: Array<readonly [string, string]> | null = null;
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!;
    const lower = name.toLowerCase();
    let kept: string | null = value;
    if (lower === 'cookie' && value.toLowerCase().includes('leakwatch_token_')) {
      kept = value.split(';').filter((pair) => !OWN_COOKIE.test(pair)).join(';').trim() || null;
    } else if (lower === 'set-cookie' && OWN_COOKIE.test(value)) {
      kept = null;
    }
    if (kept === value && out === null) continue;
    out ??= headers.slice(0, i);
    if (kept !== null) out.push([name, kept]);
  }
  return out ?? headers;
}

export function httpExchange(flow: Flow, ctx: LibCtx): Exchange {
  const init = flow.init;
  let response: ResponsePart | undefined;
  if (flow.localResponse) {
    const l = flow.localResponse;
    response = { status: l.status, statusMessage: l.statusMessage, headers: withoutOwnCookie(l.headers), body: flow.responseTee.size ? flow.responseTee.capture() : EMPTY_BODY };
  } else if (ctx.serverToProxyResponse) {
    const r = ctx.serverToProxyResponse;
    response = { status: r.statusCode ?? 0, statusMessage: r.statusMessage ?? '', headers: withoutOwnCookie(pairRawHeaders(r.rawHeaders)), body: flow.responseTee.capture() };
  }
  return {
    id: init.id,
    kind: 'http',
    listener: tunnelOf(ctx.clientToProxyRequest?.socket)?.listener ?? LISTENER,
    startedAt: init.startedAt,
    endedAt: Date.now(),
    client: init.client,
    request: { ...init.request, headers: withoutOwnCookie(init.request.headers), body: flow.requestTee.capture() },
    ...(response ? { response } : {}),
    ...(init.tls ? { tls: init.tls } : {}),
    ...(flow.error ? { error: flow.error } : {}),
    ...(flow.decision ? { decision: flow.decision } : {}),
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
  readonly decision?: Decision;
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
    request: { ...r.request, headers: withoutOwnCookie(r.request.headers), body: EMPTY_BODY },
    ...(r.status !== undefined ? { response: { status: r.status, statusMessage: r.statusMessage ?? '', headers: [], body: EMPTY_BODY } } : {}),
    ...(r.tls ? { tls: r.tls } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(r.decision ? { decision: r.decision } : {}),
    ...(r.meta ? { meta: r.meta } : {}),
  };
}
