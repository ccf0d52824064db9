/**
 * Bounded decompression shared by the body decoder and the value decoders: gzip, zlib/raw deflate,
 * brotli and zstd, never producing more than the caller's limit (decompression bombs), and keeping
 * what a truncated stream holds. Node 20 has no zstd, so fzstd (pure JS) decodes it.
 */
import zlib from 'node:zlib';
import { Decompress } from 'fzstd';

/** A zstd window (= allocation) above this is refused: fzstd allocates it up front. */
const ZSTD_MAX_WINDOW = 64 * 1024 * 1024;

export interface Step {
  out: Buffer;
  capped: boolean;
  error?: string;
}

const EMPTY_BUF: Buffer = Buffer.alloc(0);

export const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const tooLarge = (e: unknown): boolean =>
  e instanceof RangeError || (e as { code?: string } | null)?.code === 'ERR_BUFFER_TOO_LARGE';

type ZFn = (b: Buffer, o: zlib.ZlibOptions & zlib.BrotliOptions) => Buffer;

/**
 * Sync zlib/brotli with a flush mode that returns what a truncated stream holds. Over the cap, keep
 * the output of the longest doubling input prefix that fits: total work stays under ~3x the cap,
 * and nothing is ever inflated beyond it (maxOutputLength aborts early).
 */
export function zlibCapped(fn: ZFn, buf: Buffer, limit: number, flush: number): Step {
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

/** True when the first two bytes are a zlib (RFC 1950) header: deflate method, valid check bits. */
function zlibHeader(buf: Uint8Array): boolean {
  return buf.length > 1 && (buf[0]! & 0x0f) === 8 && buf[0]! >> 4 <= 7 && ((buf[0]! << 8) | buf[1]!) % 31 === 0;
}

/** Undoes one content coding; null for a coding it does not know. */
export function decompress(enc: string, buf: Buffer, limit: number, complete: boolean): Step | null {
  const Z = zlib.constants;
  switch (enc) {
    case 'gzip':
    case 'x-gzip':
      return zlibCapped(zlib.gunzipSync, buf, limit, Z.Z_SYNC_FLUSH);
    case 'deflate': {
      // RFC 9110 says zlib-wrapped, but some servers send raw deflate: the zlib header tells them apart.
      const wrapped = zlibHeader(buf);
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

/**
 * The compression a payload's magic bytes announce, for bodies and fields that say nothing about it
 * (PostHog's `text/plain` gzip bodies, gzipped multipart log files, base64 of gzip). Brotli has no
 * magic, so it is never guessed. Raw deflate has none either.
 */
export function sniffCompression(buf: Uint8Array): 'gzip' | 'deflate' | 'zstd' | null {
  if (buf.length < 2) return null;
  if (buf[0] === 0x1f && buf[1] === 0x8b) return buf.length > 2 && buf[2] !== 8 ? null : 'gzip';
  if (buf.length >= 4 && buf[0] === 0x28 && buf[1] === 0xb5 && buf[2] === 0x2f && buf[3] === 0xfd) return 'zstd';
  // A zlib header alone is 2 bytes that texts can start with by chance (`x^` is a valid one): ask
  // for the 32 KiB window with the default, best or no-compression level byte zlib writers emit.
  if (zlibHeader(buf) && buf[0] === 0x78 && (buf[1] === 0x9c || buf[1] === 0xda || buf[1] === 0x01)) return 'deflate';
  return null;
}
