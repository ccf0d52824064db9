/**
 * Out-of-line blobs: bodies and the per-exchange details (headers, versions, websocket and TLS
 * facts). Both are deflated (raw deflate: fast, and no header bytes wasted on small rows) and
 * kept as is when deflating does not help (images, already-compressed data).
 */
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync, constants } from 'node:zlib';
import type { BodyView } from './types.js';

export const ENC_NONE = 0;
export const ENC_DEFLATE = 1;

export const PART_REQUEST = 1;
export const PART_RESPONSE = 2;
export const PART_WEBSOCKET = 3;

/** bodies.key: exchange id and part in one integer primary key (no second index). */
export const bodyKey = (exchangeId: number, part: number): number => exchangeId * 4 + part;

export interface PackedBlob {
  readonly enc: number;
  readonly data: Buffer;
}

/** Below this a zlib context (~15-30 us to set up) costs more than the bytes it saves. */
const PACK_MIN = 1024;
/** From here on, level 1: ~3x faster than 6 on JSON/HTML for ~1% more bytes (100 KB: ~0.6 vs ~1.9 ms). */
const FAST_FROM = 8192;
/** Large blobs are sampled first: images and compressed downloads would cost a full deflate for nothing. */
const SAMPLE_FROM = 32 * 1024;
const SAMPLE = 4096;

export function pack(bytes: Buffer): PackedBlob {
  if (bytes.length < PACK_MIN) return { enc: ENC_NONE, data: bytes };
  if (bytes.length < FAST_FROM) {
    const z = deflateRawSync(bytes, { level: 6, strategy: constants.Z_DEFAULT_STRATEGY, windowBits: 12, memLevel: 5 });
    return z.length < bytes.length ? { enc: ENC_DEFLATE, data: z } : { enc: ENC_NONE, data: bytes };
  }
  if (bytes.length >= SAMPLE_FROM) {
    const probe = deflateRawSync(bytes.subarray(0, SAMPLE), { level: 1 });
    if (probe.length > SAMPLE * 0.9) return { enc: ENC_NONE, data: bytes };
  }
  const z = deflateRawSync(bytes, { level: 1 });
  return z.length < bytes.length ? { enc: ENC_DEFLATE, data: z } : { enc: ENC_NONE, data: bytes };
}

export function unpack(enc: number, data: Buffer): Buffer {
  return enc === ENC_DEFLATE ? inflateRawSync(data) : data;
}

/**
 * Content address of a body (blobs.hash): SHA-256 of the bytes as stored, before deflate. A
 * collision-resistant hash, because a crafted collision would show one flow another's body.
 * (~50 us for 100 KB with the CPU's SHA extensions: a tenth of deflating it.)
 */
export function blobHash(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

export interface BodyRow {
  readonly enc: number;
  readonly size: number;
  readonly truncated: number;
  readonly data: Buffer;
}

export function bodyView(row: BodyRow | undefined): BodyView | null {
  if (!row) return null;
  return { bytes: unpack(row.enc, row.data), size: row.size, truncated: row.truncated === 1 };
}

/** What `details.data` holds, as JSON (short keys: it is stored once per exchange). */
export interface Details {
  /** listener */
  readonly l?: string;
  /** request http version, headers */
  readonly hv?: string;
  readonly qh?: ReadonlyArray<readonly [string, string]>;
  /** response status message, headers */
  readonly sm?: string;
  readonly sh?: ReadonlyArray<readonly [string, string]>;
  /** body sizes and truncation flags as seen by the proxy (the body itself may not be stored) */
  readonly qs?: number;
  readonly ss?: number;
  /** websocket: connection id, direction, binary, data size */
  readonly ws?: { readonly c: number; readonly d: 'send' | 'receive'; readonly b: boolean; readonly n: number };
  /** error message */
  readonly em?: string;
  /** audit notes */
  readonly n?: readonly string[];
  /** tls facts, applied verdict, listener meta */
  readonly tls?: unknown;
  readonly ap?: unknown;
  readonly m?: unknown;
}

/**
 * Below this, details are stored as plain JSON: a zlib context costs ~15-30 us per call, the
 * largest single cost of writing an exchange, to save a few hundred bytes.
 */
const DETAILS_DEFLATE_MIN = 1024;

/** details.data = one encoding byte, then the (maybe deflated) JSON. */
export function packDetails(json: string): Buffer {
  const len = Buffer.byteLength(json, 'utf8');
  if (len < DETAILS_DEFLATE_MIN) {
    const out = Buffer.allocUnsafe(len + 1);
    out[0] = ENC_NONE;
    out.write(json, 1, 'utf8');
    return out;
  }
  const p = pack(Buffer.from(json, 'utf8'));
  return Buffer.concat([Buffer.of(p.enc), p.data]);
}

export function unpackDetails(data: Buffer | undefined): Details | null {
  if (!data || data.length === 0) return null;
  return JSON.parse(unpack(data[0]!, data.subarray(1)).toString('utf8')) as Details;
}
