/**
 * Turning pack problems into RulePackError: each issue's field path is looked up in the YAML
 * document to get its line and column, so a message reads
 * `rules/bad.yaml:12:9: rules[3].category: must be one of identity-server, …`.
 * All issues of a file go into one error, one per line, sorted by position; the error's
 * file/line/col/field are the first issue's.
 */
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import { RulePackError } from '../core/errors.js';
import type { IssuePath, PackIssue } from './schema.js';

export interface Position {
  readonly line: number;
  readonly col: number;
}

/** One located problem; `field` is '' for whole-file problems (YAML syntax, unreadable file). */
export interface LocatedIssue extends Position {
  readonly file: string;
  readonly field: string;
  readonly message: string;
}

/** "rules[3].category" */
export function formatField(path: IssuePath): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out === '' ? k : `.${k}`;
  return out;
}

export function formatIssue(i: LocatedIssue): string {
  const where = i.line > 0 ? `${i.file}:${i.line}:${i.col}` : i.file;
  return i.field === '' ? `${where}: ${i.message}` : `${where}: ${i.field}: ${i.message}`;
}

/** One error for many issues (at least one). */
export function toRulePackError(issues: readonly LocatedIssue[]): RulePackError {
  const sorted = [...issues].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
  const first = sorted[0]!;
  return new RulePackError(sorted.map(formatIssue).join('\n'), first.file, first.line, first.col, first.field);
}

/**
 * The YAML node at `path`, or the deepest existing ancestor (a missing key points at the mapping
 * that lacks it). With `atKey`, the key node of the last step (an unknown key points at itself).
 */
export function nodeAt(doc: Document, path: IssuePath, atKey = false): Node | null {
  let node: unknown = doc.contents;
  for (let i = 0; i < path.length; i++) {
    const k = path[i]!;
    let next: unknown;
    let keyNode: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(k));
      next = pair?.value;
      keyNode = pair?.key;
    } else if (isSeq(node) && typeof k === 'number') {
      next = node.items[k];
    }
    if (atKey && i === path.length - 1 && keyNode) return keyNode as Node;
    if (next === undefined || next === null) break;
    node = next;
  }
  return (node as Node | null) ?? null;
}

export function positionOf(doc: Document, lc: LineCounter, path: IssuePath, atKey = false): Position {
  const node = nodeAt(doc, path, atKey);
  const offset = node?.range?.[0] ?? 0;
  return lc.linePos(offset);
}

/** Locate validation issues; `also` (the first of two duplicates) becomes "first defined at …". */
export function locateIssues(file: string, doc: Document, lc: LineCounter, issues: readonly PackIssue[]): LocatedIssue[] {
  return issues.map((issue) => {
    const pos = positionOf(doc, lc, issue.path, issue.atKey === true);
    let message = issue.message;
    if (issue.also) {
      const other = positionOf(doc, lc, issue.also);
      message += ` (first defined at ${file}:${other.line}:${other.col})`;
    }
    return { file, ...pos, field: formatField(issue.path), message };
  });
}

/** YAML syntax errors (the document is not used when there are any). */
export function yamlIssues(file: string, doc: Document): LocatedIssue[] {
  return doc.errors.map((e) => {
    const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
    // yaml's message repeats the position and quotes the source after the first line
    let message = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
    if (e.code === 'BAD_ALIAS') message += ' (a "*" host must be quoted: "*")';
    return { file, line: pos.line, col: pos.col, field: '', message: `YAML: ${message}` };
  });
}
