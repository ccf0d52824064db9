import { describe, expect, it } from 'vitest';
import { LineCounter, parseDocument } from 'yaml';
import { formatField, formatIssue, positionOf, toRulePackError } from '../../rules/load-errors.js';

describe('formatField', () => {
  it.each([
    [[], ''],
    [['version'], 'version'],
    [['rules', 3, 'category'], 'rules[3].category'],
    [['rules', 0, 'extract', 1, 'from'], 'rules[0].extract[1].from'],
    [['defaults', 'extract', 0], 'defaults.extract[0]'],
  ])('%j -> %s', (path, field) => {
    expect(formatField(path)).toBe(field);
  });
});

describe('formatIssue', () => {
  it.each([
    [{ file: 'a.yaml', line: 3, col: 5, field: 'pack', message: 'm' }, 'a.yaml:3:5: pack: m'],
    [{ file: 'a.yaml', line: 3, col: 5, field: '', message: 'YAML: m' }, 'a.yaml:3:5: YAML: m'],
    [{ file: 'dir', line: 0, col: 0, field: '', message: 'cannot read: ENOENT' }, 'dir: cannot read: ENOENT'],
  ])('%j -> %s', (issue, text) => {
    expect(formatIssue(issue)).toBe(text);
  });
});

describe('positionOf', () => {
  const src = 'pack: p\nrules:\n  - id: a.b\n    hosts: ["x.org", "y.org"]\n    extra: 1\n';
  const lc = new LineCounter();
  const doc = parseDocument(src, { lineCounter: lc });
  it.each([
    [['pack'], false, { line: 1, col: 7 }],
    [['rules', 0, 'id'], false, { line: 3, col: 9 }],
    [['rules', 0, 'hosts', 1], false, { line: 4, col: 22 }],
    [['rules', 0, 'extra'], true, { line: 5, col: 5 }],
    // a missing key points at the mapping that lacks it
    [['rules', 0, 'why'], false, { line: 3, col: 5 }],
    [['version'], false, { line: 1, col: 1 }],
    [['rules', 5, 'id'], false, { line: 3, col: 3 }],
  ])('%j (atKey %s) -> %j', (path, atKey, pos) => {
    expect(positionOf(doc, lc, path, atKey)).toEqual(pos);
  });
});

describe('toRulePackError', () => {
  it('sorts by file and position and takes the fields of the first', () => {
    const err = toRulePackError([
      { file: 'a.yaml', line: 9, col: 1, field: 'x', message: 'later' },
      { file: 'a.yaml', line: 2, col: 4, field: 'y', message: 'first' },
    ]);
    expect(err.message).toBe('a.yaml:2:4: y: first\na.yaml:9:1: x: later');
    expect(err).toMatchObject({ name: 'RulePackError', file: 'a.yaml', line: 2, col: 4, field: 'y' });
  });
});
