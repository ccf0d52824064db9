import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evalPath, joinKey, walkLeaves } from '../../rules/json-path.js';

const doc = {
  addresses: ['h0', 'h1'],
  mappings: { LJw: '@bob:example.com', 'a.b': '@c:d.e' },
  content: { 'm.relates_to': { event_id: '$e' }, candidates: [{ candidate: 'c0' }, { candidate: 'c1' }] },
  n: 5,
};

describe('evalPath', () => {
  it.each([
    ['addresses[1]', [['addresses[1]', 'h1']]],
    ['addresses[*]', [['addresses[0]', 'h0'], ['addresses[1]', 'h1']]],
    ['mappings.*', [['mappings.LJw', '@bob:example.com'], ['mappings["a.b"]', '@c:d.e']]],
    ['mappings.@keys', [['mappings.LJw', 'LJw'], ['mappings["a.b"]', 'a.b']]],
    ['content["m.relates_to"].event_id', [['content["m.relates_to"].event_id', '$e']]],
    ['content.candidates[*].candidate', [['content.candidates[0].candidate', 'c0'], ['content.candidates[1].candidate', 'c1']]],
    ['n', [['n', 5]]],
    ['missing.x', []],
    ['addresses[9]', []],
    ['n.x', []],
  ])('%s', (path, want) => {
    expect(evalPath(doc, path).map((p) => [p.path, p.value])).toEqual(want);
  });
  it('round-trips concrete paths', () => {
    for (const l of walkLeaves(doc)) expect(evalPath(doc, l.path)).toEqual([{ path: l.path, value: l.value }]);
  });
});

describe('walkLeaves', () => {
  it('yields strings and numbers with key and parent, in document order', () => {
    const leaves = walkLeaves({ a: ['x', 1, null, true], b: { c: 'y' } });
    expect(leaves.map((l) => [l.path, l.key, l.value])).toEqual([
      ['a[0]', '0', 'x'],
      ['a[1]', '1', 1],
      ['b.c', 'c', 'y'],
    ]);
  });
  it('is bounded on deep nesting', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(walkLeaves(deep)).toEqual([]);
  });
  it('joinKey quotes keys that are not plain', () => {
    expect(joinKey('', 'a')).toBe('a');
    expect(joinKey('a', '1x')).toBe('a["1x"]');
    expect(joinKey('a', 2)).toBe('a[2]');
  });
  it('never throws on arbitrary JSON, and paths evaluate back', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), (v, p) => {
        for (const l of walkLeaves(v)) expect(evalPath(v, l.path)[0]?.value).toEqual(l.value);
        evalPath(v, p);
      }),
      { numRuns: 300 },
    );
  });
});
