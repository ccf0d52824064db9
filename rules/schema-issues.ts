/**
 * Messages for pack problems: zod's issues rewritten as short, stable, plain-English messages
 * ("must be one of …", "unknown key "hsots" (did you mean hosts?)", "required"), plus the checks
 * that span fields (duplicate ids in a file, `path` extractors naming a placeholder). The checks run
 * on the raw YAML data so they report even when other fields of the same rule are wrong.
 */
import type * as z from 'zod';
import { parsePathPattern } from './path-pattern.js';

export type IssuePath = readonly (string | number)[];

export interface PackIssue {
  readonly path: IssuePath;
  readonly message: string;
  /** Point at the key rather than its value (unknown keys). */
  readonly atKey?: boolean;
  /** Another place involved (duplicates): load.ts appends its location. */
  readonly also?: IssuePath;
}

function valueAt(raw: unknown, p: IssuePath): unknown {
  let v = raw;
  for (const k of p) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

const NOUNS: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', number: 'a number' };
const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;

/** Keys allowed at each kind of place, for "did you mean" on unknown keys. */
const PACK_KEYS = ['pack', 'version', 'description', 'defaults', 'rules'];
const RULE_KEYS = ['id', 'party', 'category', 'hosts', 'paths', 'methods', 'severity', 'why', 'cite', 'remediation', 'action', 'extract', 'strip', 'neutralize', 'response', 'request'];
const STRIP_KEYS = ['headers', 'query', 'json', 'known'];
const NEUTRALIZE_KEYS = ['status', 'json'];
const EXTRACTOR_KEYS = ['from', 'name', 'path', 'kind', 'part'];
function keysAt(p: IssuePath): readonly string[] {
  if (p.length === 0) return PACK_KEYS;
  if (p.length === 1 && p[0] === 'defaults') return ['extract'];
  if (p.length === 2 && p[0] === 'rules') return RULE_KEYS;
  if (p.length === 3 && p[0] === 'rules' && p[2] === 'strip') return STRIP_KEYS;
  if (p.length === 3 && p[0] === 'rules' && p[2] === 'neutralize') return NEUTRALIZE_KEYS;
  if (p.length === 3 && p[0] === 'rules' && p[2] === 'response') return ['json'];
  if (p.length === 3 && p[0] === 'rules' && p[2] === 'request') return ['query'];
  return p[p.length - 2] === 'extract' ? EXTRACTOR_KEYS : [];
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** " (did you mean hosts?)" for a near miss (typos are the usual cause), else "". */
export function didYouMean(word: unknown, candidates: readonly unknown[]): string {
  if (typeof word !== 'string') return '';
  let best: string | undefined;
  let bestD = (word.length <= 3 ? 1 : 2) + 1; // at most 1 or 2 edits: a typo, not a guess
  for (const c of candidates) {
    const d = typeof c === 'string' ? distance(word.toLowerCase(), c) : Infinity;
    if (d < bestD) [best, bestD] = [c as string, d];
  }
  return best === undefined ? '' : ` (did you mean ${best}?)`;
}

const oneOf = (values: readonly unknown[], value?: unknown): string =>
  values.length === 1
    ? `must be ${JSON.stringify(values[0])}`
    : `must be one of ${values.join(', ')}${didYouMean(value, values)}`;
const ROOT = 'a rule pack must be a mapping with pack, version, description and rules';

export function toPackIssues(issue: z.core.$ZodIssue, raw: unknown): PackIssue[] {
  const p = issue.path as IssuePath;
  const value = valueAt(raw, p);
  const missing = value === undefined || value === null;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({ path: [...p, k], message: `unknown key "${k}"${didYouMean(k, keysAt(p))}`, atKey: true }));
    case 'invalid_value':
      return [{ path: p, message: missing ? `required; ${oneOf(issue.values)}` : oneOf(issue.values, value) }];
    case 'invalid_union': {
      // zod 4 reports an unknown discriminator (`from: nope`) this way, with the options listed
      const options = (issue as { options?: readonly unknown[] }).options;
      if (options) return [{ path: p, message: missing ? `required; ${oneOf(options)}` : oneOf(options, value) }];
      return [{ path: p, message: issue.message }];
    }
    case 'invalid_type':
      if (p.length === 0) return [{ path: p, message: missing ? `the file is empty: ${ROOT}` : `${ROOT}, not ${describe(value)}` }];
      if (missing) return [{ path: p, message: 'required' }];
      return [{ path: p, message: `must be ${NOUNS[issue.expected] ?? issue.expected}, not ${describe(value)}` }];
    case 'too_small':
      return [{ path: p, message: 'must not be empty' }];
    default:
      return [{ path: p, message: issue.message }];
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Checks across fields, run on the raw data so they report even when other fields are wrong. */
export function crossChecks(raw: unknown): PackIssue[] {
  if (!isRecord(raw)) return [];
  const issues: PackIssue[] = [];
  const defaults = isRecord(raw['defaults']) ? raw['defaults']['extract'] : undefined;
  if (Array.isArray(defaults)) {
    defaults.forEach((x, j) => {
      if (isRecord(x) && x['from'] === 'path') {
        const message = 'a path extractor cannot be a pack default: placeholders belong to a rule\'s paths';
        issues.push({ path: ['defaults', 'extract', j, 'from'], message });
      }
    });
  }
  if (!Array.isArray(raw['rules'])) return issues;
  const firstById = new Map<string, number>();
  raw['rules'].forEach((r, i) => {
    if (!isRecord(r)) return;
    const id = r['id'];
    if (typeof id === 'string') {
      const first = firstById.get(id);
      if (first === undefined) firstById.set(id, i);
      else issues.push({ path: ['rules', i, 'id'], message: `duplicate rule id "${id}"`, also: ['rules', first, 'id'] });
    }
    issues.push(...pathExtractorIssues(r, i));
    // The request gate acts before any response exists, so it never sees a response condition.
    if (r['response'] !== undefined && r['action'] !== undefined && r['action'] !== 'log') {
      issues.push({ path: ['rules', i, 'action'], message: 'a rule with a response condition can only log: the request gate acts before the response exists' });
    }
  });
  return issues;
}

/**
 * A `path` extractor must name a placeholder that at least one path of its rule declares (a typo
 * would otherwise extract nothing, silently). Paths without it simply yield nothing for it: rules
 * such as MapTiler's list several URL shapes where only one carries the coordinates.
 */
function pathExtractorIssues(r: Record<string, unknown>, i: number): PackIssue[] {
  const extract = r['extract'];
  if (!Array.isArray(extract)) return [];
  const paths = Array.isArray(r['paths']) ? r['paths'] : [];
  const issues: PackIssue[] = [];
  extract.forEach((x, j) => {
    if (!isRecord(x) || x['from'] !== 'path' || typeof x['name'] !== 'string') return;
    const name = x['name'];
    const at = ['rules', i, 'extract', j, 'name'];
    if (paths.length === 0) {
      issues.push({ path: at, message: `placeholder {${name}} needs paths, but the rule matches any path` });
      return;
    }
    // `z/x/y` names several placeholders whose values are joined (a map tile's coordinates).
    const declared = paths.some((p) => {
      const parsed = typeof p === 'string' ? parsePathPattern(p) : null;
      return parsed !== null && parsed.ok && name.split('/').every((n) => parsed.pattern.names.includes(n));
    });
    if (!declared) issues.push({ path: at, message: `placeholder {${name}} is not in any path of the rule` });
  });
  return issues;
}
