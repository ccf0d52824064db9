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
import { crossChecks, toPackIssues, type PackIssue } from './schema-issues.js';

export type { IssuePath, PackIssue } from './schema-issues.js';

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
  z.strictObject({ from: z.literal('connection'), name: z.literal('client'), kind, part: z.literal('request').default('request') }),
]);

/** Header names: the token characters of RFC 9110, stored lower-case. */
const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name, like referer')
  .transform((s) => s.toLowerCase());
const jsonPath = text.refine((s) => !s.includes('@keys'), 'a strip path names values, not @keys');

/** What `action: strip` removes (rules/README.md "Enforcement"). */
const strip = z
  .strictObject({
    headers: z.array(headerName).default([]),
    query: z.array(text).default([]),
    json: z.array(jsonPath).default([]),
    known: z.array(jsonPath).default([]),
  })
  .refine((s) => s.headers.length + s.query.length + s.json.length + s.known.length > 0, 'must name at least one of headers, query, json, known');

/** The canned answer of `action: neutralize`. */
const neutralize = z.strictObject({
  status: z.number().int().min(200).max(299).default(200),
  json: z.unknown().refine((v) => v !== undefined, 'required'),
});

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
  response: z.strictObject({ json: z.literal('empty') }).optional(),
  request: z.strictObject({ query: z.literal('matrix-id') }).optional(),
  strip: strip.optional(),
  neutralize: neutralize.optional(),
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
