/**
 * CORS headers for the answers leakwatch makes itself (blocks, neutralized answers, preflights,
 * upstream errors). A web client (Element Web) fetches cross-origin: an answer without
 * `Access-Control-Allow-Origin` is hidden from it as a "CORS error", so it cannot see a block's
 * canned answer or a 504, retries blindly and backs off. Echoing the request's Origin exposes
 * only leakwatch's own answer, never the origin's. Pure: no I/O.
 */
import { headerValue, type RawHeaders } from '../core/exchange.js';
import { hasHeader } from './headers.js';

/** The headers a page may read from our answers (status and body are readable anyway). */
const EXPOSED = 'X-Leakwatch-Error, X-Leakwatch-Verdict';

/** `OPTIONS` with `Access-Control-Request-Method`: a browser asking before the real request. */
function isPreflight(method: string, headers: RawHeaders): boolean {
  return method.toUpperCase() === 'OPTIONS' && headerValue(headers, 'access-control-request-method') !== undefined;
}

/**
 * The headers to add to a local answer to a request with these headers: nothing without an
 * Origin, and never a header the answer already sets (a neutralized answer may carry its own).
 */
export function corsHeadersFor(method: string, request: RawHeaders, answer: RawHeaders): RawHeaders {
  const origin = headerValue(request, 'origin');
  if (origin === undefined) return [];
  const out: Array<readonly [string, string]> = [];
  const add = (name: string, value: string): void => {
    if (!hasHeader(answer, name)) out.push([name, value]);
  };
  add('Access-Control-Allow-Origin', origin);
  add('Access-Control-Allow-Credentials', 'true');
  out.push(['Vary', 'Origin']);
  if (isPreflight(method, request)) {
    add('Access-Control-Allow-Methods', headerValue(request, 'access-control-request-method')!);
    const wanted = headerValue(request, 'access-control-request-headers');
    if (wanted) add('Access-Control-Allow-Headers', wanted);
    add('Access-Control-Max-Age', '0');
  } else {
    add('Access-Control-Expose-Headers', EXPOSED);
  }
  return out;
}
