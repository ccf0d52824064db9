/** Header plumbing: hop-by-hop filtering (RFC 9110 7.6.1) and Node's flat raw-header arrays. */
import type { RawHeaders } from '../core/exchange.js';

/**
 * Request and response heads up to this size pass, on every parser (client and upstream side).
 * Node's default, 16 KiB, cut real traffic (large cookies, JWTs, CSP headers); a larger request
 * head gets 431, a larger response head 502.
 */
export const MAX_HEADER_BYTES = 64 * 1024;

/** Connection-specific headers: they describe the client<->proxy hop and must not travel on. */
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'upgrade',
]);

/** Drops hop-by-hop headers and those the Connection header names. Framing headers stay. */
export function forwardableHeaders(headers: RawHeaders, keepUpgrade = false): Array<readonly [string, string]> {
  const named = new Set<string>();
  for (const [k, v] of headers) {
    if (k.toLowerCase() === 'connection') for (const t of v.split(',')) named.add(t.trim().toLowerCase());
  }
  if (keepUpgrade) named.delete('upgrade');
  return headers.filter(([k]) => {
    const lower = k.toLowerCase();
    if (keepUpgrade && (lower === 'upgrade' || lower === 'connection')) return true;
    return !HOP_BY_HOP.has(lower) && !named.has(lower);
  });
}

export function isFramingHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === 'content-length' || lower === 'transfer-encoding';
}

/** Node accepts [name, value, name, value, ...] and then writes headers in that order and case. */
export function flatten(headers: RawHeaders): string[] {
  const out: string[] = [];
  for (const [k, v] of headers) out.push(k, v);
  return out;
}

export function hasHeader(headers: RawHeaders, name: string): boolean {
  const lower = name.toLowerCase();
  return headers.some(([k]) => k.toLowerCase() === lower);
}
