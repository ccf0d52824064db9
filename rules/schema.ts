/**
 * The schema of one rule-pack file (rules/README.md is its documentation). Strict on purpose: a
 * misspelt key (`hsots:`) in a privacy rule would silently widen or disable it, so unknown keys
 * are errors. `validatePack` returns every problem as { path, message } with stable, plain-English
 * messages; rules/load.ts turns the paths into file:line:col.
 */
import * as z from 'zod';
import { ACTIONS, CATEGORIES, KINDS } from '../core/vocabulary.js';
import { hostPatternError } from './host-index.js';
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

const RULE_ID = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
export const RULE_SEVERITIES = ['info', 'low', 'medium', 'high'] as const;
export const EXTRACT_KINDS = [...KINDS, 'threepid'] as const;

const text = z.string().trim().min(1);
const ruleId = z
  .string()
  .refine((s) => RULE_ID.test(s) && s.includes('.'), 'must be dotted lower-case with at least one dot, like "vendor.product.endpoint"');
const packName = z.string().regex(RULE_ID, 'must be lower-case letters and digits, separated by ".", "-" or "_"');
const host = z
  .string()
  .superRefine((s, ctx) => {
    const error = hostPatternError(s);
    if (error) ctx.addIssue({ code: 'custom', message: error });
  })
  .transform((s) => s.toLowerCase());
const path = z.string().superRefine((s, ctx) => {
  const r = parsePathPattern(s);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
});
const method = z
  .string()
  .regex(/^[A-Za-z]+$/, 'must be an HTTP method name, like GET or POST')
  .transform((s) => s.toUpperCase());

const kind = z.enum(EXTRACT_KINDS);
const part = z.enum(['request', 'response']).default('request');
const extractor = z.discriminatedUnion('from', [
  z.strictObject({ from: z.literal('query'), name: text, kind, part }),
  z.strictObject({ from: z.literal('header'), name: text, kind, part }),
  z.strictObject({ from: z.literal('cookie'), name: text, kind, part }),
  z.strictObject({ from: z.literal('json'), path: text, kind, part }),
  z.strictObject({ from: z.literal('form'), name: text, kind, part }),
  z.strictObject({ from: z.literal('multipart'), name: text, kind, part }),
  z.strictObject({ from: z.literal('path'), name: text, kind, part }),
  z.strictObject({ from: z.literal('sdp'), path: text, kind, part }),
  z.strictObject({ from: z.literal('body'), kind, part }),
]);

const rule = z.strictObject({
  id: ruleId,
  party: text,
  category: z.enum(CATEGORIES),
  hosts: z.array(host).min(1),
  paths: z.array(path).default([]),
  methods: z.array(method).default([]),
  severity: z.enum(RULE_SEVERITIES),
  why: text,
  cite: text,
  remediation: text,
  action: z.enum(ACTIONS).default('log'),
  extract: z.array(extractor).default([]),
});

export const packFileSchema = z.strictObject({
  pack: packName,
  version: z.literal(1),
  description: text,
  defaults: z.strictObject({ extract: z.array(extractor).default([]) }).optional(),
  rules: z.array(rule).min(1),
});

/** A pack file after validation and defaults, before load.ts adds file and source positions. */
export type PackFile = z.output<typeof packFileSchema>;
export type RuleFile = PackFile['rules'][number];

export type PackValidation =
  | { readonly ok: true; readonly value: PackFile }
  | { readonly ok: false; readonly issues: readonly PackIssue[] };

/** Validate the plain data of one YAML document; all issues, never the first only. */
export function validatePack(raw: unknown): PackValidation {
  const parsed = packFileSchema.safeParse(raw);
  const issues = parsed.success ? [] : parsed.error.issues.flatMap((i) => toPackIssues(i, raw));
  issues.push(...crossChecks(raw));
  if (parsed.success && issues.length === 0) return { ok: true, value: parsed.data };
  return { ok: false, issues };
}

function valueAt(raw: unknown, p: IssuePath): unknown {
  let v = raw;
  for (const k of p) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

const NOUNS: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', number: 'a number' };
const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;
const oneOf = (values: readonly unknown[]): string =>
  values.length === 1 ? `must be ${JSON.stringify(values[0])}` : `must be one of ${values.join(', ')}`;

function toPackIssues(issue: z.core.$ZodIssue, raw: unknown): PackIssue[] {
  const p = issue.path as IssuePath;
  const value = valueAt(raw, p);
  const missing = value === undefined || value === null;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({ path: [...p, k], message: `unknown key "${k}"`, atKey: true }));
    case 'invalid_value':
      return [{ path: p, message: missing ? `required; ${oneOf(issue.values)}` : oneOf(issue.values) }];
    case 'invalid_union': {
      // zod 4 reports an unknown discriminator (`from: nope`) this way, with the options listed
      const options = (issue as { options?: readonly unknown[] }).options;
      if (options) return [{ path: p, message: missing ? `required; ${oneOf(options)}` : oneOf(options) }];
      return [{ path: p, message: issue.message }];
    }
    case 'invalid_type':
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
function crossChecks(raw: unknown): PackIssue[] {
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
  });
  return issues;
}

/** A `path` extractor must name a placeholder present in every path of its rule. */
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
    for (const p of paths) {
      if (typeof p !== 'string') continue;
      const parsed = parsePathPattern(p);
      if (parsed.ok && !parsed.pattern.names.includes(name)) {
        issues.push({ path: at, message: `placeholder {${name}} is not in path "${p}"` });
      }
    }
  });
  return issues;
}
