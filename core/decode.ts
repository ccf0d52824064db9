/**
 * Body decoding: undo Content-Encoding (bounded), or the compression the magic bytes announce when
 * no header names one, then parse by Content-Type and shape: JSON, NDJSON (Sentry envelopes), form,
 * multipart (file parts decompressed by magic), text, or binary (kept with its printable runs).
 * Values inside fields (base64, JWT, JSON text, base32) are decoded later, per field, by
 * core/decoders/value.ts. Pure and total: any problem with the traffic becomes a note, never an
 * exception.
 */
import { isUtf8 } from 'node:buffer';
import { decompress, errText, sniffCompression } from './decoders/compression.js';
import { parseNdjson } from './decoders/ndjson.js';
import { printableRuns } from './decoders/printable.js';
import { headerValue, headerValues, type BodyCapture, type RawHeaders } from './exchange.js';

/** Decoded bytes stop here and the body is marked truncated (decompression bombs). */
export const DECODE_LIMIT = 16 * 1024 * 1024;
/** More chained Content-Encodings than this is hostile or broken: left undecoded. */
export const MAX_ENCODINGS = 5;
const MAX_PARTS = 1000;

export interface BodyPart {
  readonly name: string;
  readonly filename?: string;
  readonly contentType?: string;
  /** Present for parts that are valid UTF-8 (after gunzip when the part was gzip, e.g. rageshake logs). */
  readonly text?: string;
  readonly size: number;
}

export type BodyType = 'empty' | 'json' | 'ndjson' | 'form' | 'multipart' | 'text' | 'binary';

export interface DecodedBody {
  readonly type: BodyType;
  /** Bytes after content decoding (as far as it went). */
  readonly bytes: Buffer;
  /** UTF-8 text for json, form and text bodies. */
  readonly text?: string;
  readonly json?: unknown;
  readonly form?: ReadonlyArray<readonly [string, string]>;
  readonly parts?: readonly BodyPart[];
  /** NDJSON bodies: each line that parsed, with its 0-based line number. */
  readonly lines?: ReadonlyArray<{ readonly line: number; readonly json: unknown }>;
  /** Binary bodies: printable runs (ICE candidates, ids and URLs between protobuf field tags). */
  readonly runs?: readonly string[];
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
      const step = decompress(enc, bytes, DECODE_LIMIT, !truncated);
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
  if (list.length === 0) {
    // PostHog sends gzip as `text/plain` with no Content-Encoding: the magic bytes say what it is.
    const sniffed = sniffCompression(bytes);
    const step = sniffed === null ? null : decompress(sniffed, bytes, DECODE_LIMIT, !truncated);
    if (step !== null && step.out.length > 0) {
      notes.push(`${sniffed} by magic bytes (no Content-Encoding)${step.error === undefined ? '' : `: ${step.error}; kept partial output`}`);
      if (step.capped) notes.push(`${sniffed}: decoded size over ${DECODE_LIMIT} bytes; truncated`);
      truncated ||= step.capped;
      bytes = step.out;
      encodings.push(sniffed!);
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
  if (text === undefined) return { type: 'binary', bytes, runs: printableRuns(bytes), encodings: m.encodings, truncated: m.truncated, notes: m.notes };
  if (mime === 'application/x-www-form-urlencoded') {
    return { type: 'form', bytes, text, form: [...new URLSearchParams(text)], encodings: m.encodings, truncated: m.truncated, notes: m.notes };
  }
  const jsonish = mime === 'application/json' || mime.endsWith('+json') || mime === 'text/json';
  const first = /^\s*([[{"])/.exec(text.length > 64 ? text.slice(0, 64) : text)?.[1];
  if (jsonish || first === '{' || first === '[') {
    try {
      return { type: 'json', bytes, text, json: JSON.parse(text) as unknown, encodings: m.encodings, truncated: m.truncated, notes: m.notes };
    } catch (e) {
      const nd = first === '{' ? parseNdjson(text) : null;
      if (nd !== null) {
        for (const n of nd.notes) m.notes.push(n);
        return { type: 'ndjson', bytes, text, lines: nd.docs, encodings: m.encodings, truncated: m.truncated, notes: m.notes };
      }
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
    const magic = sniffCompression(data);
    const s = magic === null ? null : decompress(magic, data, Math.max(0, budget), end !== -1);
    if (s !== null) {
      // rageshake's compressed-log parts are gzip files: decode them within the same overall cap.
      if (s.out.length > 0) inner = s.out;
      budget -= s.out.length;
      if (s.error !== undefined) notes.push(`multipart part ${JSON.stringify(name)}: ${magic}: ${s.error}`);
      if (s.capped) notes.push(`multipart part ${JSON.stringify(name)}: ${magic} output over cap; truncated`);
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
