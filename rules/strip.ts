/**
 * `action: strip`: forward the request without the parts that leak. Headers (Referer, Origin,
 * Cookie, Accept-Language removed; User-Agent replaced with a generic one), query parameters, and
 * JSON body values (`strip.json`: removed; `strip.known`: array entries / values removed only when
 * they match a declared identity or contact, e.g. a lookup's `addresses[*]`). A compressed body
 * (gzip, deflate, br) is decoded, rewritten and re-encoded with the same encoding; the proxy then
 * sets Content-Length for the new bytes. A body that is not JSON, or not decodable, goes on
 * unchanged (headers are still stripped). Pure apart from zlib.
 */
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { DECODE_LIMIT } from '../core/decode.js';
import { decompress } from '../core/decoders/compression.js';
import type { RawHeaders } from '../core/exchange.js';
import { headerValue } from '../core/exchange.js';
import type { BodyRewrite } from '../core/gate.js';
import { matchIdentityLookup } from './identity-hash.js';
import { parsePath, type Seg } from './json-path.js';
import type { KnownValueIndex } from './known-values.js';
import type { StripSpec } from './types.js';

/** Sent in place of the client's User-Agent: common, and says nothing about the app or device. */
export const GENERIC_USER_AGENT = 'Mozilla/5.0';

/** Stripped from every request to a third party under `strip`, in addition to the rule's own list. */
export const THIRD_PARTY_HEADERS: readonly string[] = ['referer', 'origin', 'cookie', 'accept-language', 'user-agent'];

export const EMPTY_STRIP: StripSpec = Object.freeze({ headers: [], query: [], json: [], known: [] });

/** The rule's spec, plus the generic third-party header set unless the host is first-party. */
export function effectiveStrip(spec: StripSpec | undefined, firstParty: boolean): StripSpec {
  const s = spec ?? EMPTY_STRIP;
  if (firstParty) return s;
  return { ...s, headers: [...new Set([...THIRD_PARTY_HEADERS, ...s.headers])] };
}

export function stripHeaders(headers: RawHeaders, names: readonly string[]): { headers: RawHeaders; removed: string[] } {
  if (names.length === 0) return { headers, removed: [] };
  const drop = new Set(names.map((n) => n.toLowerCase()));
  const removed: string[] = [];
  const out: Array<readonly [string, string]> = [];
  for (const [k, v] of headers) {
    const lower = k.toLowerCase();
    if (!drop.has(lower)) out.push([k, v]);
    else if (lower === 'user-agent') {
      if (v !== GENERIC_USER_AGENT) removed.push(lower);
      out.push([k, GENERIC_USER_AGENT]);
    } else removed.push(lower);
  }
  return { headers: out, removed: [...new Set(removed)] };
}

/** Path plus query without the named parameters (other parameters keep their exact bytes). */
export function stripQuery(path: string, names: readonly string[]): { path: string; removed: string[] } {
  const q = path.indexOf('?');
  if (q === -1 || names.length === 0) return { path, removed: [] };
  const drop = new Set(names);
  const removed: string[] = [];
  const kept = path
    .slice(q + 1)
    .split('&')
    .filter((pair) => {
      const eq = pair.indexOf('=');
      const raw = eq === -1 ? pair : pair.slice(0, eq);
      let name = raw;
      try {
        name = decodeURIComponent(raw.replace(/\+/g, ' '));
      } catch {
        // keep the raw name
      }
      if (!drop.has(name)) return true;
      removed.push(name);
      return false;
    });
  return { path: kept.length > 0 ? `${path.slice(0, q)}?${kept.join('&')}` : path.slice(0, q), removed: [...new Set(removed)] };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
type Pred = (value: unknown) => boolean;

/** Removes what `segs` points at (only where `pred` holds); returns how many values went. */
function removeAt(node: unknown, segs: readonly Seg[], i: number, pred: Pred | null): number {
  const s = segs[i];
  if (!s || s.t === 'keys') return 0;
  const last = i === segs.length - 1;
  if (last) {
    if (s.t === 'key' && isObj(node) && Object.hasOwn(node, s.k) && (!pred || pred(node[s.k]))) {
      delete node[s.k];
      return 1;
    }
    if (s.t === 'index' && Array.isArray(node) && s.i < node.length && (!pred || pred(node[s.i]))) {
      node.splice(s.i, 1);
      return 1;
    }
    if (s.t === 'any' && Array.isArray(node)) {
      const before = node.length;
      const kept = node.filter((v) => pred !== null && !pred(v));
      node.splice(0, node.length, ...kept);
      return before - kept.length;
    }
    if (s.t === 'any' && isObj(node)) {
      let n = 0;
      for (const k of Object.keys(node)) if (!pred || pred(node[k])) (delete node[k], n++);
      return n;
    }
    return 0;
  }
  if (s.t === 'key') return isObj(node) && Object.hasOwn(node, s.k) ? removeAt(node[s.k], segs, i + 1, pred) : 0;
  if (s.t === 'index') return Array.isArray(node) && s.i < node.length ? removeAt(node[s.i], segs, i + 1, pred) : 0;
  const children = Array.isArray(node) ? node : isObj(node) ? Object.values(node) : [];
  let n = 0;
  for (const c of children) n += removeAt(c, segs, i + 1, pred);
  return n;
}

/** A predicate: does a value match a declared identity or contact (plain, or an IS lookup hash)? */
export function knownMatcher(root: unknown, known: KnownValueIndex | undefined): Pred {
  if (!known) return () => false;
  const hashed = new Set<string>();
  const addresses = isObj(root) ? root['addresses'] : undefined;
  if (Array.isArray(addresses)) {
    for (const hit of matchIdentityLookup(root, known)) {
      const a = addresses[hit.index];
      if (typeof a === 'string') hashed.add(a);
    }
  }
  return (v) => typeof v === 'string' && (hashed.has(v) || known.exact.has(v) || known.exact.has(v.toLowerCase()));
}

/** Removes `spec.json` and the known entries of `spec.known` from a parsed JSON value, in place. */
export function stripJson(root: unknown, spec: Pick<StripSpec, 'json' | 'known'>, known?: KnownValueIndex): number {
  let n = 0;
  // Match before removing anything: the identity hash needs the body's pepper and addresses as sent.
  const isKnown = spec.known.length > 0 ? knownMatcher(root, known) : null;
  for (const p of spec.json) n += removeAt(root, parsePath(p), 0, null);
  if (isKnown) for (const p of spec.known) n += removeAt(root, parsePath(p), 0, isKnown);
  return n;
}

type Codec = { decode(b: Buffer): Buffer | null; encode(b: Buffer): Buffer };
const IDENTITY: Codec = { decode: (b) => b, encode: (b) => b };

/**
 * Decoding goes through the same bounded decoder as the audit: a body that decodes past the cap
 * (a decompression bomb) or not at all is forwarded as it came, never half-stripped.
 */
const bounded = (enc: string) => (b: Buffer): Buffer | null => {
  const step = decompress(enc, b, DECODE_LIMIT, true);
  return step && !step.capped && step.error === undefined ? step.out : null;
};

/** The codec for a Content-Encoding (one coding only), or null when we cannot round-trip it. */
function codecFor(encoding: string | undefined, body: Buffer): Codec | null {
  const e = (encoding ?? '').trim().toLowerCase();
  if (e === '' || e === 'identity') return IDENTITY;
  if (e === 'gzip' || e === 'x-gzip') return { decode: bounded('gzip'), encode: (b) => gzipSync(b) };
  if (e === 'br') return { decode: bounded('br'), encode: (b) => brotliCompressSync(b) };
  if (e === 'deflate') {
    // RFC 9110 deflate is zlib-wrapped; some clients send raw deflate: answer in the same form.
    const zlibWrapped = body.length >= 2 && (body[0]! & 0x0f) === 8 && ((body[0]! << 8) | body[1]!) % 31 === 0;
    return { decode: bounded('deflate'), encode: (b) => (zlibWrapped ? deflateSync(b) : deflateRawSync(b)) };
  }
  return null;
}

export interface BodyStripResult extends BodyRewrite {
  /** Values removed from the body (0: the body was forwarded as it came). */
  readonly removed: number;
}

/**
 * Rewrites a request body per `spec`. Returns the original bytes when nothing matched or the body
 * is not JSON / not decodable, so a strip never corrupts what it does not understand.
 */
export function stripBody(body: Buffer, headers: RawHeaders, spec: Pick<StripSpec, 'json' | 'known'>, known?: KnownValueIndex): BodyStripResult {
  const unchanged = { headers, body, removed: 0 };
  if (body.length === 0 || (spec.json.length === 0 && spec.known.length === 0)) return unchanged;
  const codec = codecFor(headerValue(headers, 'content-encoding'), body);
  if (!codec) return unchanged;
  const decoded = codec.decode(body);
  if (!decoded) return unchanged;
  let root: unknown;
  try {
    root = JSON.parse(decoded.toString('utf8'));
  } catch {
    return unchanged;
  }
  const removed = stripJson(root, spec, known);
  if (removed === 0) return unchanged;
  return { headers, body: codec.encode(Buffer.from(JSON.stringify(root), 'utf8')), removed };
}
