/**
 * Body decoding: undo Content-Encoding (bounded), then parse by Content-Type. Pure and total: any
 * problem with the traffic becomes a note, never an exception (research libs-and-detection §1.8,
 * §2.3 step 1). Node 20 has no zstd, so fzstd (pure JS) decodes it.
 */
import { isUtf8 } from 'node:buffer';
import zlib from 'node:zlib';
import { Decompress } from 'fzstd';
import { headerValue, headerValues, type BodyCapture, type RawHeaders } from './exchange.js';

/** Decoded bytes stop here and the body is marked truncated (decompression bombs). */
export const DECODE_LIMIT = 16 * 1024 * 1024;
/** More chained Content-Encodings than this is hostile or broken: left undecoded. */
export const MAX_ENCODINGS = 5;
const MAX_PARTS = 1000;
/** A zstd window (= allocation) above this is refused: fzstd allocates it up front. */
const ZSTD_MAX_WINDOW = 64 * 1024 * 1024;

export interface BodyPart {
  readonly name: string;
  readonly filename?: string;
  readonly contentType?: string;
  /** Present for parts that are valid UTF-8 (after gunzip when the part was gzip, e.g. rageshake logs). */
  readonly text?: string;
  readonly size: number;
}

export type BodyType = 'empty' | 'json' | 'form' | 'multipart' | 'text' | 'binary';

export interface DecodedBody {
  readonly type: BodyType;
  /** Bytes after content decoding (as far as it went). */
  readonly bytes: Buffer;
  /** UTF-8 text for json, form and text bodies. */
  readonly text?: string;
  readonly json?: unknown;
  readonly form?: ReadonlyArray<readonly [string, string]>;
  readonly parts?: readonly BodyPart[];
  /** Encodings removed, in the order they were undone. */
  readonly encodings: readonly string[];
  /** The capture was cut by the proxy, or decoding stopped at DECODE_LIMIT. */
  readonly truncated: boolean;
  readonly notes: readonly string[];
}

const EMPTY_BUF: Buffer = Buffer.alloc(0);
export const EMPTY_DECODED: DecodedBody = Object.freeze({
  type: 'empty',
  bytes: EMPTY_BUF,
  encodings: Object.freeze([]) as readonly string[],
  truncated: false,
  notes: Object.freeze([]) as readonly string[],
});

interface Step {
  out: Buffer;
  capped: boolean;
  error?: string;
}

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const tooLarge = (e: unknown): boolean =>
  e instanceof RangeError || (e as { code?: string } | null)?.code === 'ERR_BUFFER_TOO_LARGE';

type ZFn = (b: Buffer, o: zlib.ZlibOptions & zlib.BrotliOptions) => Buffer;

/**
 * Sync zlib/brotli with a flush mode that returns what a truncated stream holds. Over the cap, keep
 * the output of the longest doubling input prefix that fits: total work stays under ~3x the cap,
 * and nothing is ever inflated beyond it (maxOutputLength aborts early).
 */
function zlibCapped(fn: ZFn, buf: Buffer, limit: number, flush: number): Step {
  const opts = { finishFlush: flush, maxOutputLength: Math.max(1, limit) };
  try {
    return { out: fn(buf, opts), capped: false };
  } catch (e) {
    if (!tooLarge(e)) return { out: EMPTY_BUF, capped: false, error: errText(e) };
  }
  let best: Buffer = EMPTY_BUF;
  for (let n = 1024; n < buf.length; n *= 2) {
    try {
      best = fn(buf.subarray(0, n), opts);
    } catch {
      break;
    }
  }
  return { out: best, capped: true };
}

function zstdWindow(b: Buffer): number {
  if (b.length < 6 || b.readUInt32LE(0) !== 0xfd2fb528) return 0;
  const flg = b[4]!;
  if (!((flg >> 5) & 1)) {
    const exp = 1 << (10 + (b[5]! >> 3));
    return exp + (exp >> 3) * (b[5]! & 7);
  }
  const fcf = flg >> 6;
  const at = 5 + (flg & 3 ? [0, 1, 2, 4][flg & 3]! : 0);
  const n = fcf ? 1 << fcf : 1;
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + (b[at + i] ?? 0);
  return v + (fcf === 1 ? 256 : 0);
}

/** Streaming fzstd fed in small slices so output can stop at the cap (RLE blocks expand 128 KiB each). */
function unzstd(buf: Buffer, limit: number, complete: boolean): Step {
  const w = zstdWindow(buf);
  if (w > ZSTD_MAX_WINDOW) return { out: EMPTY_BUF, capped: false, error: `zstd window ${w} too large` };
  const chunks: Uint8Array[] = [];
  let size = 0;
  let error: string | undefined;
  const d = new Decompress((c) => {
    chunks.push(c.slice());
    size += c.length;
  });
  try {
    for (let i = 0; i < buf.length && size < limit; i += 256) {
      const end = i + 256 >= buf.length;
      d.push(buf.subarray(i, i + 256), end && complete);
    }
  } catch (e) {
    error = `zstd: ${errText(e)}`;
  }
  const all = Buffer.concat(chunks);
  const capped = all.length > limit;
  const step: Step = { out: capped ? all.subarray(0, limit) : all, capped };
  if (error !== undefined) step.error = error;
  return step;
}

function undo(enc: string, buf: Buffer, limit: number, complete: boolean): Step | null {
  const Z = zlib.constants;
  switch (enc) {
    case 'gzip':
    case 'x-gzip':
      return zlibCapped(zlib.gunzipSync, buf, limit, Z.Z_SYNC_FLUSH);
    case 'deflate': {
      // RFC 9110 says zlib-wrapped, but some servers send raw deflate: the zlib header tells them apart.
      const wrapped = buf.length > 1 && (buf[0]! & 0x0f) === 8 && ((buf[0]! << 8) | buf[1]!) % 31 === 0;
      const s = zlibCapped(wrapped ? zlib.inflateSync : zlib.inflateRawSync, buf, limit, Z.Z_SYNC_FLUSH);
      return s.error && wrapped ? zlibCapped(zlib.inflateRawSync, buf, limit, Z.Z_SYNC_FLUSH) : s;
    }
    case 'br':
      return zlibCapped(zlib.brotliDecompressSync, buf, limit, Z.BROTLI_OPERATION_FLUSH);
    case 'zstd':
      return unzstd(buf, limit, complete);
    default:
      return null;
  }
}

/** Drop a UTF-8 sequence cut by truncation so the rest still counts as text. */
function trimPartialUtf8(b: Buffer): Buffer {
  for (let i = 1; i <= 3 && i <= b.length; i++) {
    const c = b[b.length - i]!;
    if ((c & 0xc0) !== 0x80) return (c & 0xc0) === 0xc0 ? b.subarray(0, b.length - i) : b;
  }
  return b;
}

export function decodeBody(body: BodyCapture, headers: RawHeaders): DecodedBody {
  if (body.bytes.length === 0) return body.truncated || body.size > 0 ? { ...EMPTY_DECODED, truncated: true } : EMPTY_DECODED;
  const notes: string[] = [];
  const encodings: string[] = [];
  let bytes = body.bytes;
  let truncated = body.truncated;
  if (truncated) notes.push(`capture truncated at ${body.bytes.length} of ${body.size} bytes; decoded as far as possible`);
  const list = headerValues(headers, 'content-encoding')
    .join(',')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'identity');
  if (list.length > MAX_ENCODINGS) {
    notes.push(`${list.length} content encodings (more than ${MAX_ENCODINGS}); body left encoded`);
  } else {
    for (let i = list.length - 1; i >= 0; i--) {
      const enc = list[i]!;
      const step = undo(enc, bytes, DECODE_LIMIT, !truncated);
      if (step === null) {
        notes.push(`unknown content-encoding ${JSON.stringify(enc)}; decoding stopped`);
        break;
      }
      if (step.error !== undefined && step.out.length === 0) {
        notes.push(`content-encoding ${enc}: ${step.error}; decoding stopped`);
        break;
      }
      if (step.error !== undefined) notes.push(`content-encoding ${enc}: ${step.error}; kept partial output`);
      if (step.capped) notes.push(`content-encoding ${enc}: decoded size over ${DECODE_LIMIT} bytes; truncated`);
      truncated ||= step.capped;
      bytes = step.out;
      encodings.push(enc);
    }
  }
  return parseBody(bytes, headers, { encodings, truncated, notes });
}

interface Meta {
  encodings: string[];
  truncated: boolean;
  notes: string[];
}

function textOf(bytes: Buffer, truncated: boolean): string | undefined {
  const b = truncated ? trimPartialUtf8(bytes) : bytes;
  return isUtf8(b) ? b.toString('utf8') : undefined;
}

// Each result is one object literal: Node 20's V8 takes a slow path for `{ ...base, type }` when the
// spread adds keys (1-4 µs per body, on every exchange with a body).
function parseBody(bytes: Buffer, headers: RawHeaders, m: Meta): DecodedBody {
  if (bytes.length === 0) return { type: 'empty', bytes, encodings: m.encodings, truncated: m.truncated, notes: m.notes };
  const ct = headerValue(headers, 'content-type') ?? '';
  const mime = (ct.split(';')[0] ?? '').trim().toLowerCase();
  if (mime === 'multipart/form-data') {
    const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(ct);
    const b = boundary?.[1] ?? boundary?.[2];
    if (b) return { type: 'multipart', bytes, parts: parseMultipart(bytes, b, m.notes), encodings: m.encodings, truncated: m.truncated, notes: m.notes };
    m.notes.push('multipart body without boundary');
  }
  const text = textOf(bytes, m.truncated);
  if (text === undefined) return { type: 'binary', bytes, encodings: m.encodings, truncated: m.truncated, notes: m.notes };
  if (mime === 'application/x-www-form-urlencoded') {
    return { type: 'form', bytes, text, form: [...new URLSearchParams(text)], encodings: m.encodings, truncated: m.truncated, notes: m.notes };
  }
  const jsonish = mime === 'application/json' || mime.endsWith('+json') || mime === 'text/json';
  const first = /^\s*([[{"])/.exec(text.length > 64 ? text.slice(0, 64) : text)?.[1];
  if (jsonish || first === '{' || first === '[') {
    try {
      return { type: 'json', bytes, text, json: JSON.parse(text) as unknown, encodings: m.encodings, truncated: m.truncated, notes: m.notes };
    } catch (e) {
      if (jsonish) m.notes.push(`json: ${errText(e)}`);
    }
  }
  return { type: 'text', bytes, text, encodings: m.encodings, truncated: m.truncated, notes: m.notes };
}

const CRLF2 = Buffer.from('\r\n\r\n');

function parseMultipart(buf: Buffer, boundary: string, notes: string[]): BodyPart[] {
  const delim = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  const parts: BodyPart[] = [];
  let budget = DECODE_LIMIT;
  let pos = buf.indexOf(delim);
  while (pos !== -1 && parts.length < MAX_PARTS) {
    const start = pos + delim.length;
    if (buf[start] === 0x2d && buf[start + 1] === 0x2d) break;
    const hdrEnd = buf.indexOf(CRLF2, start);
    if (hdrEnd === -1) break;
    const end = buf.indexOf(next, hdrEnd + 4);
    const data = buf.subarray(hdrEnd + 4, end === -1 ? buf.length : end);
    const head = buf.subarray(start, hdrEnd).toString('latin1');
    const name = /name="([^"]*)"/i.exec(head)?.[1] ?? '';
    const filename = /filename="([^"]*)"/i.exec(head)?.[1];
    const type = /content-type:\s*([^\r\n;]+)/i.exec(head)?.[1]?.trim().toLowerCase();
    let inner = data;
    if (data[0] === 0x1f && data[1] === 0x8b) {
      // rageshake's compressed-log parts are gzip files: decode them within the same overall cap.
      const s = zlibCapped(zlib.gunzipSync, data, budget, zlib.constants.Z_SYNC_FLUSH);
      if (s.out.length > 0) inner = s.out;
      budget -= s.out.length;
      if (s.error !== undefined) notes.push(`multipart part ${JSON.stringify(name)}: gzip: ${s.error}`);
      if (s.capped) notes.push(`multipart part ${JSON.stringify(name)}: gzip output over cap; truncated`);
    }
    const text = textOf(inner, end === -1);
    const part: { -readonly [K in keyof BodyPart]: BodyPart[K] } = { name, size: data.length };
    if (filename !== undefined) part.filename = filename;
    if (type !== undefined) part.contentType = type;
    if (text !== undefined) part.text = text;
    parts.push(part);
    pos = end === -1 ? -1 : end + 2;
  }
  if (parts.length >= MAX_PARTS) notes.push(`multipart: more than ${MAX_PARTS} parts; rest ignored`);
  return parts;
}
