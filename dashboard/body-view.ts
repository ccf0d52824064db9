/**
 * Stored body bytes -> what the detail view shows: decoded text when it is text (undoing the
 * wire's gzip/deflate/br first), else base64 of a bounded prefix. Decompression is capped so a
 * hostile "zip bomb" body cannot balloon the dashboard's memory.
 */
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { headerValue, type RawHeaders } from '../core/exchange.js';
import type { BodyView } from './data-source.js';

const MAX_DECODED = 2 << 20;
const MAX_BINARY_SHOWN = 16 << 10;

function decompress(bytes: Buffer, encoding: string | undefined): Buffer {
  const enc = (encoding ?? '').trim().toLowerCase();
  const opts = { maxOutputLength: MAX_DECODED };
  try {
    if (enc === 'gzip' || enc === 'x-gzip') return gunzipSync(bytes, opts);
    if (enc === 'br') return brotliDecompressSync(bytes, opts);
    if (enc === 'deflate') {
      try {
        return inflateSync(bytes, opts);
      } catch {
        return inflateRawSync(bytes, opts);
      }
    }
  } catch {
    // truncated capture or a lying header: show the bytes as they are
  }
  return bytes;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function asText(bytes: Buffer): string | null {
  try {
    const s = utf8.decode(bytes);
    // NULs and most C0 controls mean binary, whatever the decoder accepted.
    return /[\u0000-\u0008\u000e-\u001a]/.test(s) ? null : s;
  } catch {
    return null;
  }
}

export function toBodyView(
  body: { bytes: Buffer; size: number; truncated: boolean } | null,
  headers: RawHeaders,
): BodyView | null {
  if (!body) return null;
  const contentType = headerValue(headers, 'content-type') ?? null;
  const decoded = decompress(body.bytes, headerValue(headers, 'content-encoding'));
  const text = asText(decoded);
  return {
    size: body.size,
    truncated: body.truncated,
    contentType,
    text,
    base64: text === null ? decoded.subarray(0, MAX_BINARY_SHOWN).toString('base64') : null,
    stored: true,
  };
}
