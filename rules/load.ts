/**
 * Loading rule packs from disk: YAML (with positions) -> schema -> RulePack, then checks across
 * packs (unique pack names, unique rule ids), then compile. Packs are configuration, so problems
 * fail fast as RulePackError naming file:line:col and the field; `collectPacks` is the lenient
 * form for `leakwatch rules check`, which reports every bad file instead of stopping at the first.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, relative, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { RulePackError } from '../core/errors.js';
import { packageRoot } from '../core/paths.js';
import { compileRuleset, type CompiledRuleset } from './compile.js';
import { locateIssues, positionOf, toRulePackError, yamlIssues, type LocatedIssue } from './load-errors.js';
import { validatePack } from './schema.js';
import type { Rule, RulePack } from './types.js';

/** Paths inside the working directory are shown relative to it, others absolute. */
function displayPath(p: string): string {
  const rel = relative(process.cwd(), resolve(p));
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : normalize(p);
}

const fileIssue = (file: string, message: string): RulePackError =>
  toRulePackError([{ file, line: 0, col: 0, field: '', message }]);

/** Parse and validate the text of one pack; `file` is used for messages and RulePack.file. */
export function parsePackText(text: string, file: string): RulePack {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true });
  if (doc.errors.length > 0) throw toRulePackError(yamlIssues(file, doc));
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err: unknown) {
    // e.g. an alias to an anchor that does not exist
    const message = `YAML: ${err instanceof Error ? err.message : String(err)}`;
    throw toRulePackError([{ file, line: 1, col: 1, field: '', message }]);
  }
  const v = validatePack(raw);
  if (!v.ok) throw toRulePackError(locateIssues(file, doc, lc, v.issues));
  const at = (path: readonly (string | number)[]) => ({ file, ...positionOf(doc, lc, path) });
  const { pack, version, description, defaults, rules } = v.value;
  return {
    pack,
    version,
    description,
    file,
    defaults: { extract: defaults?.extract ?? [] },
    source: at(['pack']),
    rules: rules.map((r, i): Rule => {
      const { strip, neutralize, response, request, ...rest } = r;
      return {
        ...rest,
        ...(strip ? { strip } : {}),
        ...(response ? { response } : {}),
        ...(request ? { request } : {}),
        ...(neutralize ? { neutralize: { status: neutralize.status, json: neutralize.json } } : {}),
        pack,
        source: at(['rules', i, 'id']),
      };
    }),
  };
}

export function loadPackFile(file: string): RulePack {
  const shown = displayPath(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err: unknown) {
    throw fileIssue(shown, `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parsePackText(text, shown);
}

const isPackFile = (name: string): boolean => name.endsWith('.yaml') || name.endsWith('.yml');

/** Files named by `paths` (a folder gives its *.yaml and *.yml, sorted), each once. */
export function expandPackPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    let files: string[];
    try {
      files = statSync(p).isDirectory() ? readdirSync(p).filter(isPackFile).sort().map((n) => join(p, n)) : [p];
    } catch (err: unknown) {
      throw fileIssue(displayPath(p), `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    if (files.length === 0) throw fileIssue(displayPath(p), 'no *.yaml or *.yml rule packs in this folder');
    for (const f of files) {
      const abs = resolve(f);
      if (!seen.has(abs)) out.push(f);
      seen.add(abs);
    }
  }
  return out;
}

const where = (s: { file: string; line: number; col?: number } | undefined, file: string): string =>
  s ? `${s.file}:${s.line}:${s.col ?? 1}` : file;

/** Pack names and rule ids must be unique among all loaded packs (ids are database keys). */
export function crossPackIssues(packs: readonly RulePack[]): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  const packs1 = new Map<string, RulePack>();
  const rules1 = new Map<string, Rule>();
  for (const p of packs) {
    const firstPack = packs1.get(p.pack);
    if (firstPack) {
      const message = `duplicate pack name "${p.pack}" (first defined at ${where(firstPack.source, firstPack.file)})`;
      issues.push({ file: p.file, line: p.source?.line ?? 0, col: p.source?.col ?? 0, field: 'pack', message });
    } else packs1.set(p.pack, p);
    p.rules.forEach((r, i) => {
      const first = rules1.get(r.id);
      if (!first) return void rules1.set(r.id, r);
      const message = `duplicate rule id "${r.id}" (first defined at ${where(first.source, first.source.file)})`;
      issues.push({ file: p.file, line: r.source.line, col: r.source.col ?? 1, field: `rules[${i}].id`, message });
    });
  }
  return issues;
}

/** Load every pack, collecting errors instead of stopping (packs with errors are left out). */
export function collectPacks(paths: readonly string[]): { packs: RulePack[]; errors: RulePackError[] } {
  const packs: RulePack[] = [];
  const errors: RulePackError[] = [];
  const attempt = (fn: () => void): void => {
    try {
      fn();
    } catch (err: unknown) {
      if (!(err instanceof RulePackError)) throw err;
      errors.push(err);
    }
  };
  const seen = new Set<string>();
  for (const p of paths) {
    let files: string[] = [];
    attempt(() => (files = expandPackPaths([p])));
    for (const f of files) {
      if (seen.has(resolve(f))) continue; // a file named directly and through its folder
      seen.add(resolve(f));
      attempt(() => packs.push(loadPackFile(f)));
    }
  }
  const cross = crossPackIssues(packs);
  if (cross.length > 0) errors.push(toRulePackError(cross));
  return { packs, errors };
}

/** Load packs; throws one RulePackError listing every problem (first problem's position). */
export function loadPacks(paths: readonly string[]): RulePack[] {
  const { packs, errors } = collectPacks(paths);
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) {
    const first = errors[0]!;
    throw new RulePackError(errors.map((e) => e.message).join('\n'), first.file, first.line, first.col, first.field);
  }
  return packs;
}

/** The built-in packs: the *.yaml files of the package's rules/ folder, sorted (may be none). */
export function builtinPackPaths(): string[] {
  const dir = join(packageRoot(), 'rules');
  return readdirSync(dir)
    .filter((n) => n.endsWith('.yaml'))
    .sort()
    .map((n) => join(dir, n));
}

export function loadRuleset(opts: { readonly builtin: boolean; readonly extra: readonly string[] }): CompiledRuleset {
  const paths = [...(opts.builtin ? builtinPackPaths() : []), ...opts.extra];
  return compileRuleset(loadPacks(paths));
}
