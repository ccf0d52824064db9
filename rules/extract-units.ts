/**
 * The request as a flat list of decoded strings with their `where` (Audit `Finding.where`
 * vocabulary), for the known-value and pattern tiers: path segments and placeholders, query
 * values, headers, cookies, JSON leaves, form fields, multipart text parts, WebSocket `send` data.
 */
import { decodeBody, EMPTY_DECODED, type DecodedBody } from '../core/decode.js';
import type { Exchange } from '../core/exchange.js';
import { percentDecodeLenient } from './detect/text.js';
import { walkLeaves } from './json-path.js';

export interface Unit {
  readonly where: string;
  readonly value: string | number;
  /** Field name for key-based detection (JSON key, query/form/multipart/cookie name). */
  readonly key?: string | undefined;
  readonly parent?: unknown;
  /** Lower-case header name when the unit is a header. */
  readonly header?: string | undefined;
  /** Whether the pattern tier scans it (headers like Host or Accept are not personal data). */
  readonly patterns: boolean;
}

/** Every unit gets all six fields (undefined when absent): one object shape for the tiers' loops. */
const unit = (where: string, value: string | number, key: string | undefined, parent: unknown, header: string | undefined, patterns: boolean): Unit => ({
  where,
  value,
  key,
  parent,
  header,
  patterns,
});

export interface RequestUnits {
  readonly units: Unit[];
  /** The decoded request-side body (HTTP body, or WebSocket `send` data). */
  readonly body: DecodedBody;
  /** `request.body` or `websocket.data`. */
  readonly bodyWhere: string;
}

/** Headers whose values are protocol plumbing or reported by rule extractors (User-Agent etc.). */
const NO_PATTERN_HEADERS = new Set([
  'host', 'content-length', 'content-type', 'content-encoding', 'accept', 'accept-encoding',
  'accept-language', 'connection', 'keep-alive', 'user-agent', 'cache-control', 'pragma', 'te',
  'upgrade', 'priority', 'dnt', 'if-none-match', 'if-modified-since', 'range', 'via',
  'transfer-encoding', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions',
]);

/** `request.body` + `addresses[1]` → `request.body.addresses[1]`. */
export function joinWhere(prefix: string, path: string): string {
  if (path === '') return prefix;
  return path.startsWith('[') ? prefix + path : `${prefix}.${path}`;
}

export function splitUrlPath(path: string): { pathname: string; query: string } {
  const hash = path.indexOf('#');
  const noFrag = hash === -1 ? path : path.slice(0, hash);
  const q = noFrag.indexOf('?');
  return q === -1 ? { pathname: noFrag, query: '' } : { pathname: noFrag.slice(0, q), query: noFrag.slice(q + 1) };
}

// A query whose pairs come out of URLSearchParams unchanged: no escapes, no `+`, ASCII only (the
// parser turns lone surrogates into U+FFFD) and no leading `?` (which it drops).
const PLAIN_QUERY = /^(?!\?)[\x00-\x24\x26-\x2a\x2c-\x7f]*$/;

/** `[...new URLSearchParams(query)]`, without building one for the common plain query. */
export function queryPairs(query: string): Array<[string, string]> {
  if (!PLAIN_QUERY.test(query)) return [...new URLSearchParams(query)];
  const out: Array<[string, string]> = [];
  for (const piece of query.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    out.push(eq === -1 ? [piece, ''] : [piece.slice(0, eq), piece.slice(eq + 1)]);
  }
  return out;
}

export function parseCookies(header: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const piece of header.split(';')) {
    const eq = piece.indexOf('=');
    if (eq > 0) out.push([piece.slice(0, eq).trim(), piece.slice(eq + 1).trim()]);
  }
  return out;
}

/** Units of a decoded body under `prefix` (request.body or websocket.data). */
export function bodyUnits(body: DecodedBody, prefix: string, out: Unit[]): void {
  if (body.type === 'json') {
    for (const l of walkLeaves(body.json)) {
      out.push(unit(joinWhere(prefix, l.path), l.value, l.key, l.parent, undefined, true));
    }
  } else if (body.type === 'form' && body.form) {
    for (const [k, v] of body.form) out.push(unit(`request.form.${k}`, v, k, undefined, undefined, true));
  } else if (body.type === 'multipart' && body.parts) {
    for (const p of body.parts) {
      if (p.text !== undefined) out.push(unit(`request.multipart.${p.name}`, p.text, p.name, undefined, undefined, true));
    }
  } else if (body.type === 'text' && body.text !== undefined) {
    out.push(unit(prefix, body.text, undefined, undefined, undefined, true));
  }
}

export function requestUnits(ex: Exchange, params: Readonly<Record<string, string>>): RequestUnits {
  const units: Unit[] = [];
  const ws = ex.kind === 'websocket' ? ex.websocket : undefined;
  if (ws) {
    // One WebSocket message: its data is the body; the upgrade request is its own exchange.
    const body = ws.direction === 'send' ? decodeBody(ws.data, []) : EMPTY_DECODED;
    bodyUnits(body, 'websocket.data', units);
    return { units, body, bodyWhere: 'websocket.data' };
  }
  const req = ex.request;
  const { pathname, query } = splitUrlPath(req.path);
  let covered: Set<string> | undefined;
  for (const [name, raw] of Object.entries(params)) {
    covered ??= new Set<string>();
    for (const seg of raw.split('/')) covered.add(seg);
    units.push(unit(`request.path.${name}`, percentDecodeLenient(raw), name, undefined, undefined, true));
  }
  for (const seg of pathname.split('/')) {
    if (seg === '') continue;
    const decoded = percentDecodeLenient(seg);
    if (covered === undefined || (!covered.has(seg) && !covered.has(decoded))) units.push(unit('request.path', decoded, undefined, undefined, undefined, true));
  }
  if (query !== '') {
    for (const [k, v] of queryPairs(query)) {
      if (v !== '') units.push(unit(`request.query.${k}`, v, k, undefined, undefined, true));
    }
  }
  for (const [name, value] of req.headers) {
    const h = name.toLowerCase();
    if (h === 'cookie') {
      for (const [k, v] of parseCookies(value)) units.push(unit(`request.cookie.${k}`, v, k, undefined, undefined, true));
    } else if (value !== '') {
      units.push(unit(`request.header.${h}`, value, undefined, undefined, h, !NO_PATTERN_HEADERS.has(h) && !h.startsWith('sec-')));
    }
  }
  const body = decodeBody(req.body, req.headers);
  bodyUnits(body, 'request.body', units);
  return { units, body, bodyWhere: 'request.body' };
}
