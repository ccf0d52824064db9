/**
 * The answer leakwatch gives in place of a blocked request, shaped so the client fails cleanly:
 * - Matrix endpoints (`/_matrix/…`): 403 `{"errcode":"M_FORBIDDEN","error":"Blocked by leakwatch: <rule>"}`,
 *   which matrix-js-sdk and Element turn into an ordinary MatrixError;
 * - beacons (analytics, crash reports): 204 No Content, which fire-and-forget senders accept;
 * - anything else: 403 with a one-line plain-text reason.
 * Pure: no I/O.
 */
import type { RawHeaders } from '../core/exchange.js';
import type { Category } from '../core/vocabulary.js';

export interface LocalAnswer {
  readonly status: number;
  readonly headers: RawHeaders;
  readonly body: Buffer;
}

const BEACONS: ReadonlySet<Category> = new Set<Category>(['analytics', 'crash-report']);

/** Matrix-style JSON error body. */
export function matrixForbidden(reason: string): Buffer {
  return Buffer.from(JSON.stringify({ errcode: 'M_FORBIDDEN', error: reason }));
}

function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

export function blockAnswer(path: string, category: Category | null, ruleId: string): LocalAnswer {
  const reason = `Blocked by leakwatch: ${ruleId}`;
  const common: Array<readonly [string, string]> = [['X-Leakwatch-Verdict', 'block'], ['Cache-Control', 'no-store']];
  if (pathOnly(path).startsWith('/_matrix/')) {
    return { status: 403, headers: [['Content-Type', 'application/json'], ...common], body: matrixForbidden(reason) };
  }
  if (category !== null && BEACONS.has(category)) return { status: 204, headers: common, body: Buffer.alloc(0) };
  return { status: 403, headers: [['Content-Type', 'text/plain; charset=utf-8'], ...common], body: Buffer.from(`${reason}\n`) };
}
