import { describe, expect, it } from 'vitest';
import { queryPairs, splitUrlPath } from '../../rules/extract-units.js';

describe('queryPairs', () => {
  it('equals [...new URLSearchParams(q)] on plain and tricky queries', () => {
    const fixed = ['', 'a', 'a=1', 'a=1&b=2', '&&', 'a==b&&c', '=x', '?a=1', '??a', 'a=%zz', 'a=%41', 'a+b=c+d', 'a=\u00e9', 'a=\ud800', 'a=1;b=2', 'x=a@b.org&y=#z'];
    for (const q of fixed) expect(queryPairs(q), JSON.stringify(q)).toEqual([...new URLSearchParams(q)]);
    const alphabet = ['a', 'b', '=', '&', '?', ';', '%', '%2', '%41', '%e9', '+', ' ', '\u00e9', '\ud800', '\udc00', '@', '#', '\u0000'];
    let seed = 3;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) >>> 16) % n;
    for (let i = 0; i < 5000; i++) {
      let q = '';
      for (let j = rnd(12); j > 0; j--) q += alphabet[rnd(alphabet.length)]!;
      expect(queryPairs(q), JSON.stringify(q)).toEqual([...new URLSearchParams(q)]);
    }
  });
});

describe('splitUrlPath', () => {
  it('drops the fragment, then splits at the first ?', () => {
    expect(splitUrlPath('/a/b?x=1#f?g')).toEqual({ pathname: '/a/b', query: 'x=1' });
    expect(splitUrlPath('/a#f?x=1')).toEqual({ pathname: '/a', query: '' });
    expect(splitUrlPath('/a??x')).toEqual({ pathname: '/a', query: '?x' });
    expect(splitUrlPath('/a')).toEqual({ pathname: '/a', query: '' });
  });
});
