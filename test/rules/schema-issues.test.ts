import { describe, expect, it } from 'vitest';
import { didYouMean } from '../../rules/schema-issues.js';

describe('didYouMean', () => {
  const keys = ['id', 'party', 'category', 'hosts', 'paths', 'methods', 'why', 'cite'];
  it.each([
    ['hsots', ' (did you mean hosts?)'],
    ['Hosts', ' (did you mean hosts?)'],
    ['categroy', ' (did you mean category?)'],
    ['method', ' (did you mean methods?)'],
    ['wy', ' (did you mean why?)'],
    ['xyz', ''],
    ['description', ''],
    ['x', ''],
  ])('%s -> %j', (word, hint) => {
    expect(didYouMean(word, keys)).toBe(hint);
  });

  it('ignores non-strings', () => {
    expect(didYouMean(3, keys)).toBe('');
    expect(didYouMean('1', [1])).toBe('');
  });
});
