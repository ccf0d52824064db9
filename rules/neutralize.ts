/**
 * `action: neutralize`: answer the request ourselves with a harmless success, so a client whose
 * feature would break on an error (an identity lookup) shows "nothing found" instead. The answer
 * is data in the rule (`neutralize: { status, json }`, rules/README.md); a rule without one gets
 * `{}` with 200 on Matrix paths (every Matrix client accepts an empty object there) and 204
 * elsewhere. Pure.
 */
import type { LocalAnswer } from './block-response.js';
import type { Rule } from './types.js';

export function neutralizeAnswer(rule: Rule | null, path: string): LocalAnswer {
  const headers: Array<readonly [string, string]> = [['X-Leakwatch-Verdict', 'neutralize'], ['Cache-Control', 'no-store']];
  const spec = rule?.neutralize;
  if (spec) {
    return { status: spec.status, headers: [['Content-Type', 'application/json'], ...headers], body: Buffer.from(JSON.stringify(spec.json)) };
  }
  if (path.startsWith('/_matrix/')) return { status: 200, headers: [['Content-Type', 'application/json'], ...headers], body: Buffer.from('{}') };
  return { status: 204, headers, body: Buffer.alloc(0) };
}
