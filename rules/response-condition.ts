/**
 * Request and response conditions of rules. Request conditions
 * (rules/README.md "Request conditions") look at the query only, so the request gate can apply them.
 *
 * Response conditions of rules (rules/README.md "Response conditions"): a rule with `response:`
 * applies only when the recorded response satisfies it, so it can describe what an answer means
 * (`/voip/turnServer` answering `{}`: no TURN server configured). Evaluated after the response, in
 * the audit; the request gate, which runs before any response exists, never sees such rules.
 */
import { decodeBody } from '../core/decode.js';
import type { Exchange } from '../core/exchange.js';
import { detectMatrixIds } from './detect/matrix-ids.js';
import type { RequestCondition, ResponseCondition } from './types.js';

/** `query: matrix-id`: some query value is (or holds) a Matrix user id or room id. */
export function requestConditionHolds(cond: RequestCondition, query: string): boolean {
  if (cond.query !== 'matrix-id' || query === '') return false;
  // A user id needs a `:`, a room id a `!` (v12 room ids have no server): most queries have neither,
  // and this runs in the request gate for every request a host-wide rule matches.
  if (!/[:!]|%3a|%21/i.test(query)) return false;
  return detectMatrixIds(query).some((c) => c.kind === 'mxid' || c.kind === 'room_id');
}

function isEmptyJson(v: unknown): boolean {
  if (Array.isArray(v)) return v.length === 0;
  return v !== null && typeof v === 'object' && Object.keys(v).length === 0;
}

/** False when there is no response or its body was cut at the capture cap (unknown is not empty). */
export function responseConditionHolds(cond: ResponseCondition, ex: Exchange): boolean {
  const res = ex.response;
  if (!res || res.body.truncated) return false;
  if (cond.json === 'empty') {
    const body = decodeBody(res.body, res.headers);
    return body.type === 'json' && isEmptyJson(body.json);
  }
  return false;
}
