/**
 * Stored body bytes -> what the detail view shows: decoded text when it is text (undoing the
 * wire's gzip/deflate/br first), else base64 of a bounded prefix. Decompression is capped so a
 * hostile "zip bomb" body cannot balloon the dashboard's memory.
 */
import { decompress as decode } from '../core/decoders/compression.js';
import { headerValue, type RawHeaders } from '../core/exchange.js';
import type { BodyView } from './data-source.js';

const MAX_DECODED = 2 << 20;
const MAX_BINARY_SHOWN = 16 << 10;

/** The same bounded decoder as the audit (gzip, deflate, br, zstd); past the cap, its prefix. */
function decompress(bytes: Buffer, encoding: string | undefined): { out: Buffer; capped: boolean } {
  const enc = (encoding ?? '').trim().toLowerCase();
  const step = enc === '' || enc === 'identity' ? null : decode(enc, bytes, MAX_DECODED, true);
  // A truncated capture or a lying header: show the bytes as they are.
  if (!step || (step.error !== undefined && step.out.length === 0)) return { out: bytes, capped: false };
  return { out: step.out, capped: step.capped };
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
  const { out: decoded, capped } = decompress(body.bytes, headerValue(headers, 'content-encoding'));
  const text = asText(decoded);
  return {
    size: body.size,
    truncated: body.truncated || capped,
    contentType,
    text,
    base64: text === null ? decoded.subarray(0, MAX_BINARY_SHOWN).toString('base64') : null,
    stored: true,
  };
}
