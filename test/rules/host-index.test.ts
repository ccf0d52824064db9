import { describe, expect, it } from 'vitest';
import { buildHostIndex, hostPatternError, isLdhHost, normalizeHost, RANK_ANY } from '../../rules/host-index.js';

describe('normalizeHost', () => {
  it.each([
    ['Matrix.ORG', 'matrix.org'],
    ['matrix.org:8448', 'matrix.org'],
    ['matrix.org.', 'matrix.org'],
    ['Matrix.Org.:443', 'matrix.org'],
    ['[::1]:8448', '::1'],
    ['[2001:DB8::1]', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['10.0.0.1:80', '10.0.0.1'],
    [' vector.im ', 'vector.im'],
  ])('%j -> %j', (input, out) => {
    expect(normalizeHost(input)).toBe(out);
  });
});

describe('host patterns', () => {
  it.each(['*', 'vector.im', '*.vector.im', 'Scalar.Vector.IM', 'localhost', '10.0.0.1', 'xn--bcher-kva.example', 'a-b.c'])(
    'accepts %s',
    (p) => expect(hostPatternError(p)).toBeNull(),
  );

  it.each([
    ['https://vector.im', 'not a URL'],
    ['vector.im/path', 'not a URL'],
    ['vector.im:443', 'must not include a port'],
    ['vector.im.', 'must not end with "."'],
    ['a.*.vector.im', 'whole first label'],
    ['*vector.im', 'whole first label'],
    ['**.vector.im', 'whole first label'],
    ['*.', 'must not end with "."'],
    // Underscores are part of the one host grammar (core/hosts.ts); a space is not.
    ['vec tor.im', 'must be "*", a host name'],
    ['-vector.im', 'must be "*", a host name'],
    ['vector..im', 'must be "*", a host name'],
    ['', 'must be "*", a host name'],
  ])('rejects %j: %s', (p, message) => {
    expect(hostPatternError(p)).toContain(message);
  });

  it('limits label and name length', () => {
    expect(isLdhHost(`${'a'.repeat(63)}.org`)).toBe(true);
    expect(isLdhHost(`${'a'.repeat(64)}.org`)).toBe(false);
    expect(isLdhHost(Array(128).fill('a').join('.'))).toBe(false);
  });
});

describe('buildHostIndex', () => {
  const index = buildHostIndex<string>([
    ['vector.im', 'exact-vector'],
    ['*.vector.im', 'sub-vector'],
    ['*.im', 'sub-im'],
    ['scalar.vector.im', 'exact-scalar'],
    ['*', 'any'],
    ['*.scalar.vector.im', 'sub-scalar'],
  ]);
  const values = (host: string): string[] => index.lookup(host).map((h) => h.value);

  it.each([
    ['vector.im', ['exact-vector', 'sub-im', 'any']],
    ['scalar.vector.im', ['exact-scalar', 'sub-vector', 'sub-im', 'any']],
    ['a.scalar.vector.im', ['sub-scalar', 'sub-vector', 'sub-im', 'any']],
    ['other.im', ['sub-im', 'any']],
    ['im', ['any']],
    ['notvector.im', ['sub-im', 'any']],
    ['example.org', ['any']],
  ])('%s -> %j (most specific first)', (host, expected) => {
    expect(values(host)).toEqual(expected);
  });

  it('ranks exact < longer suffix < shorter suffix < any', () => {
    const ranks = index.lookup('a.scalar.vector.im').map((h) => h.rank);
    expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
    expect(index.lookup('vector.im')[0]!.rank).toBe(0);
    expect(ranks[ranks.length - 1]).toBe(RANK_ANY);
    expect(new Set(ranks).size).toBe(ranks.length);
  });

  it('keeps every value of a shared pattern', () => {
    const two = buildHostIndex([['a.org', 1], ['a.org', 2]]);
    expect(two.lookup('a.org').map((h) => h.value)).toEqual([1, 2]);
  });

  it('finds nothing in an empty index', () => {
    expect(buildHostIndex([]).lookup('a.org')).toEqual([]);
  });
});
