/**
 * The request as a flat list of decoded strings with their `where` (Audit `Finding.where`
 * vocabulary), for the known-value and pattern tiers: path segments and placeholders, query
 * values, headers, cookies, JSON leaves, NDJSON lines, form fields, multipart text parts, printable
 * runs of binary data, WebSocket `send` data. Every string unit is then decoded further where it is
 * an encoding (core/decoders/value.ts: JWT, JSON text, base64 of JSON/text/gzip, base32), up to
 * MAX_LAYERS deep, and what it decodes to becomes more units whose `where` carries the chain
 * (`request.form.data|base64|json.properties.distinct_id`). The JSON documents met on the way are
 * kept for the structural extractors.
 */
import { DECODE_LIMIT, decodeBody, EMPTY_DECODED, type DecodedBody } from '../core/decode.js';
import { decodeOnce, MAX_LAYERS, type Budget } from '../core/decoders/value.js';
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
  /** Decoding steps between the wire and this value (0: as the message carried it). */
  readonly depth: number;
}

/** Every unit gets all seven fields (undefined when absent): one object shape for the tiers' loops. */
const unit = (where: string, value: string | number, key: string | undefined, parent: unknown, header: string | undefined, patterns: boolean, depth = 0): Unit => ({
  where,
  value,
  key,
  parent,
  header,
  patterns,
  depth,
});

/** A JSON document inside the message (the body, an NDJSON line, a decoded field) and its `where`. */
export interface Doc {
  readonly where: string;
  readonly json: unknown;
}

/** Units a request expands to at most, decoded layers included (a bound on hostile nesting). */
export const MAX_UNITS = 50_000;

export interface RequestUnits {
  readonly units: Unit[];
  /** The decoded request-side body (HTTP body, or WebSocket `send` data). */
  readonly body: DecodedBody;
  /** `request.body` or `websocket.data`. */
  readonly bodyWhere: string;
  /** JSON documents of the request: the body (or its NDJSON lines) and every decoded JSON layer. */
  readonly docs: Doc[];
  /** What the value decoding had to leave out (its output budget or unit cap reached). */
  readonly notes: string[];
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

/** The JSON documents of a decoded body: the body itself, or each NDJSON line. */
export function bodyDocs(body: DecodedBody, prefix: string): Doc[] {
  if (body.type === 'json') return [{ where: prefix, json: body.json }];
  if (body.type === 'ndjson' && body.lines) return body.lines.map((l) => ({ where: `${prefix}|ndjson[${l.line}]`, json: l.json }));
  return [];
}

function docUnits(doc: Doc, out: Unit[], depth: number): void {
  for (const l of walkLeaves(doc.json)) out.push(unit(joinWhere(doc.where, l.path), l.value, l.key, l.parent, undefined, true, depth));
}

/** Units of a decoded body under `prefix` (request.body or websocket.data). */
export function bodyUnits(body: DecodedBody, prefix: string, out: Unit[]): void {
  if (body.type === 'json' || body.type === 'ndjson') {
    for (const d of bodyDocs(body, prefix)) docUnits(d, out, 0);
  } else if (body.type === 'binary' && body.runs) {
    for (const r of body.runs) out.push(unit(`${prefix}|strings`, r, undefined, undefined, undefined, true));
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
    const notes: string[] = [];
    return { units, body, bodyWhere: 'websocket.data', docs: expandUnits(units, bodyDocs(body, 'websocket.data'), notes), notes };
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
  const notes: string[] = [];
  return { units, body, bodyWhere: 'request.body', docs: expandUnits(units, bodyDocs(body, 'request.body'), notes), notes };
}

const AUTH_SCHEME = /^\s*(?:Bearer|Basic|Token)\s+/i;

/**
 * Decodes every string unit that is an encoding, appending what it decodes to (in place), within one
 * output budget (DECODE_LIMIT bytes) and MAX_LAYERS steps per value. Returns `docs` plus the decoded
 * JSON layers.
 */
function expandUnits(units: Unit[], docs: Doc[], notes: string[]): Doc[] {
  const budget: Budget = { bytes: DECODE_LIMIT };
  let i = 0;
  for (; i < units.length && units.length < MAX_UNITS; i++) {
    const u = units[i]!;
    if (!u.patterns || typeof u.value !== 'string' || u.depth >= MAX_LAYERS) continue;
    const value = u.header === 'authorization' ? u.value.replace(AUTH_SCHEME, '') : u.value;
    const layer = decodeOnce(value, budget);
    if (layer === null) continue;
    const where = u.where + layer.chain;
    if (layer.json !== undefined) {
      const doc = { where, json: layer.json };
      docs.push(doc);
      docUnits(doc, units, u.depth + 1);
    } else if (layer.text !== undefined) {
      units.push(unit(where, layer.text, u.key, u.parent, undefined, true, u.depth + 1));
    }
  }
  if (i < units.length) notes.push(`decoding: more than ${MAX_UNITS} values; the rest left as sent`);
  if (budget.exhausted) notes.push(`decoding: decoded values reached ${DECODE_LIMIT} bytes; the rest left as sent`);
  return docs;
}
