/**
 * Shapes of rule packs after validation (rules/schema.ts turns YAML into these) and of the compiled
 * ruleset the classifier and extractors use. See rules/README.md for the YAML format.
 */
import type { Action, Category, Kind, Severity } from '../core/vocabulary.js';

/** `threepid`: email or phone, decided from the value (Matrix 3PID fields whose medium varies). */
export type ExtractKind = Kind | 'threepid';

export type ExtractorSpec =
  | { readonly from: 'query'; readonly name: string; readonly kind: ExtractKind; readonly part: Part }
  | { readonly from: 'header'; readonly name: string; readonly kind: ExtractKind; readonly part: Part }
  | { readonly from: 'cookie'; readonly name: string; readonly kind: ExtractKind; readonly part: Part }
  | { readonly from: 'json'; readonly path: string; readonly kind: ExtractKind; readonly part: Part }
  | { readonly from: 'form'; readonly name: string; readonly kind: ExtractKind; readonly part: Part }
  | { readonly from: 'multipart'; readonly name: string; readonly kind: ExtractKind; readonly part: Part }
  | { readonly from: 'path'; readonly name: string; readonly kind: ExtractKind; readonly part: Part }
  | { readonly from: 'sdp'; readonly path: string; readonly kind: ExtractKind; readonly part: Part }
  /** Facts of the connection itself: `client` is the client's IP address (what e.g. a STUN server learns). */
  | { readonly from: 'connection'; readonly name: 'client'; readonly kind: ExtractKind; readonly part: Part }
  | { readonly from: 'body'; readonly kind: ExtractKind; readonly part: Part };

export type Part = 'request' | 'response';

/**
 * Where a rule came from, for error messages and the dashboard's Rules view: the position of the
 * rule's `id` value (for a pack, of its `pack` value).
 */
export interface RuleSource {
  readonly file: string;
  readonly line: number;
  /** 1-based column, when known (packs loaded from YAML always have it). */
  readonly col?: number;
}

/** What `action: strip` removes; absent on a rule: the generic third-party header set. */
export interface StripSpec {
  /** Lower-case header names; `user-agent` is replaced with a generic one, the others removed. */
  readonly headers: readonly string[];
  /** Query parameter names to drop. */
  readonly query: readonly string[];
  /** JSON paths (extractor syntax) whose values are removed from the request body. */
  readonly json: readonly string[];
  /** JSON paths whose entries are removed only when they match a declared identity or contact. */
  readonly known: readonly string[];
}

/** The canned answer of `action: neutralize` (a 2xx JSON body that keeps clients working). */
export interface NeutralizeSpec {
  readonly status: number;
  readonly json: unknown;
}

/**
 * A condition on the response (rules/README.md "Response conditions"): the rule applies only to
 * exchanges whose response satisfies it. `json: empty`: the body is JSON `{}` or `[]`.
 */
export interface ResponseCondition {
  readonly json: 'empty';
}

/**
 * A condition on the request itself (rules/README.md "Request conditions"). `query: matrix-id`: the
 * URL's query carries a Matrix user or room id (a widget URL whose template was filled in).
 */
export interface RequestCondition {
  readonly query: 'matrix-id';
}

export interface Rule {
  readonly id: string;
  readonly pack: string;
  readonly party: string;
  readonly category: Category;
  /** "*" any host, "example.org" exact, "*.example.org" subdomains. */
  readonly hosts: readonly string[];
  /** Empty = any path. */
  readonly paths: readonly string[];
  /** Upper-case; empty = any method. */
  readonly methods: readonly string[];
  readonly severity: Severity;
  readonly why: string;
  readonly cite: string;
  readonly remediation: string;
  readonly action: Action;
  readonly extract: readonly ExtractorSpec[];
  /** Absent: the rule applies whatever the response (and before it, in the request gate). */
  readonly response?: ResponseCondition;
  /** Absent: any request that matches hosts, paths and methods. */
  readonly request?: RequestCondition;
  readonly strip?: StripSpec;
  readonly neutralize?: NeutralizeSpec;
  readonly source: RuleSource;
}

export interface RulePack {
  readonly pack: string;
  readonly version: 1;
  readonly description: string;
  readonly file: string;
  /** Extractors applied to every rule of this pack (e.g. User-Agent, Origin to third parties). */
  readonly defaults: { readonly extract: readonly ExtractorSpec[] };
  readonly rules: readonly Rule[];
  /** Where the `pack:` name is, for duplicate-pack errors (set by rules/load.ts). */
  readonly source?: RuleSource;
}

/** A rule match: the rule plus the values of its path placeholders. */
export interface RuleMatch {
  readonly rule: Rule;
  readonly params: Readonly<Record<string, string>>;
  /** Extractors to run: the pack defaults followed by the rule's own. */
  readonly extract: readonly ExtractorSpec[];
}
