import { describe, expect, it } from 'vitest';
import { Lru } from '../../certs/lru.js';

describe('Lru', () => {
  it('evicts the least recently used entry beyond maxSize', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1).set('b', 2);
    expect(lru.get('a')).toBe(1); // a is now the most recent
    lru.set('c', 3); // evicts b
    expect([...lru.keys()]).toEqual(['a', 'c']);
    expect(lru.has('b')).toBe(false);
    expect(lru.size).toBe(2);
  });

  it('peek does not refresh; set of an existing key refreshes and replaces', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1).set('b', 2);
    expect(lru.peek('a')).toBe(1);
    lru.set('c', 3);
    expect(lru.has('a')).toBe(false);
    lru.set('b', 20).set('d', 4);
    expect(lru.get('b')).toBe(20);
    expect(lru.has('c')).toBe(false);
    expect(lru.delete('b')).toBe(true);
    lru.clear();
    expect(lru.size).toBe(0);
  });

  it('rejects a non-positive size', () => {
    expect(() => new Lru(0)).toThrow(RangeError);
    expect(() => new Lru(1.5)).toThrow(RangeError);
  });
});
