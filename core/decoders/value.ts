/**
 * One decoding step on a string found in traffic (a form field, query value, JSON string, header,
 * path segment): a JWT (decoded, never verified), JSON text, base64 / base64url (possibly of gzip,
 * zlib or zstd) or RFC 4648 base32 (Jitsi conference names). A step is kept only when it decodes to
 * JSON or readable text, so ids and hashes that merely use the same alphabet are left alone. Pure
 * and total: bad input yields null, never an exception. Callers chain steps (at most MAX_LAYERS)
 * and name each in the finding's `where`: `request.form.data|base64|json.distinct_id`.
 */
import { isUtf8 } from 'node:buffer';
import { decompress, sniffCompression } from './compression.js';

/** Decoding steps chained on one value, at most (the body's own Content-Encoding layers aside). */
export const MAX_LAYERS = 5;
/** Shortest base64 / base32 text worth decoding: shorter ones are ids and words. */
const MIN_ENCODED = 12;

export interface Layer {
  /** `|jwt`, `|json`, `|base64`, `|base64|gzip|json`, `|base32`... appended to the value's `where`. */
  readonly chain: string;
  /** Parsed JSON when the step ends in JSON. */
  readonly json?: unknown;
  /** Readable text when it does not. */
  readonly text?: string;
}

/** Output bytes a whole exchange's value decoding may produce (shared across its layers). */
export interface Budget {
  bytes: number;
  /** Set when a value was left encoded because the budget could not pay for it. */
  exhausted?: boolean;
}

const refuse = (budget: Budget): null => {
  budget.exhausted = true;
  return null;
};

// Spaces allowed: a `+` that went through form decoding unescaped arrives as a space.
const B64 = /^[A-Za-z0-9+/_ -]+={0,2}$/;
const HEX = /^[0-9A-Fa-f]+$/;
const B32 = /^(?:[A-Z2-7]+|[a-z2-7]+)=*$/;
const JWT = /^[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*$/;
// Readable: no C0 controls but tab / CR / LF, no DEL, no replacement character.
const UNREADABLE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]/;

function parseJson(text: string): unknown {
  const t = text.trimStart();
  if (t[0] !== '{' && t[0] !== '[') return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? v : undefined;
  } catch {
    return undefined;
  }
}

function decodeJwt(s: string): Layer | null {
  const dot = s.indexOf('.');
  const head = parseJson(Buffer.from(s.slice(0, dot), 'base64url').toString('utf8')) as { alg?: unknown } | undefined;
  if (head === undefined || Array.isArray(head) || typeof head.alg !== 'string') return null;
  const payload = parseJson(Buffer.from(s.slice(dot + 1, s.indexOf('.', dot + 1)), 'base64url').toString('utf8'));
  return payload === undefined ? null : { chain: '|jwt', json: payload };
}

/** Bytes to a layer: decompressed when the magic says so, then JSON or readable text, else null. */
function fromBytes(chain: string, raw: Buffer, budget: Budget, minText: number): Layer | null {
  let bytes = raw;
  const enc = sniffCompression(bytes);
  if (enc !== null) {
    const step = decompress(enc, bytes, Math.max(0, budget.bytes), true);
    if (step === null || step.out.length === 0) return null;
    if (step.capped) budget.exhausted = true;
    bytes = step.out;
    chain += `|${enc}`;
  }
  if (bytes.length > budget.bytes) return refuse(budget);
  budget.bytes -= bytes.length;
  if (!isUtf8(bytes)) return null;
  const text = bytes.toString('utf8');
  const json = parseJson(text);
  if (json !== undefined) return { chain: `${chain}|json`, json };
  if (text.length < minText || UNREADABLE.test(text) || !/[A-Za-z]/.test(text)) return null;
  return { chain, text };
}

/** RFC 4648 base32 (padding optional, either case); null on a character outside the alphabet. */
export function base32Decode(s: string): Buffer | null {
  const t = s.replace(/=+$/, '').toUpperCase();
  const out = Buffer.alloc(Math.floor((t.length * 5) / 8));
  let bits = 0;
  let acc = 0;
  let n = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    const v = c >= 65 && c <= 90 ? c - 65 : c >= 50 && c <= 55 ? c - 24 : -1;
    if (v < 0) return null;
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, n);
}

/**
 * One step of decoding, or null when `s` is not an encoding this knows or decodes to nothing
 * readable. Cheap for ordinary values: a length check and one character test before any regex.
 */
export function decodeOnce(s: string, budget: Budget): Layer | null {
  if (s.length < MIN_ENCODED) return null;
  if (budget.bytes <= 0) return refuse(budget);
  try {
    const c = s.charCodeAt(0);
    if (c === 0x7b || c === 0x5b) {
      // JSON text inside a field (rageshake's `auto_uisi`, Sentry's `extra` values).
      if (s.length > budget.bytes) return refuse(budget);
      const json = parseJson(s);
      if (json === undefined) return null;
      budget.bytes -= s.length;
      return { chain: '|json', json };
    }
    if (s.length > budget.bytes * 2) return refuse(budget);
    if (s.includes('.')) return JWT.test(s) ? decodeJwt(s) : null;
    if (B64.test(s) && !HEX.test(s)) {
      const b64 = s.includes(' ') ? s.replace(/ /g, '+') : s;
      const layer = fromBytes('|base64', Buffer.from(b64, 'base64'), budget, 6);
      if (layer !== null) return layer;
    }
    if (s.length >= 16 && B32.test(s)) {
      const bytes = base32Decode(s);
      if (bytes !== null) return fromBytes('|base32', bytes, budget, 6);
    }
    return null;
  } catch {
    // Defensive: every branch above is total on its own; a throw here would be a bug, not input.
    return null;
  }
}
