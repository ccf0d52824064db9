import { describe, expect, it } from 'vitest';
import type { Finding } from '../../core/audit.js';
import { mergeFindings } from '../../rules/extract-merge.js';

// The merge as first written (recomputing every key per tier): the reference the faster one must match.
function reference(structural: readonly Finding[], known: readonly Finding[], pattern: readonly Finding[]): Finding[] {
  const norm = (f: Finding): string => (f.kind === 'phone' ? f.value.replace(/\D/g, '') : f.value.toLowerCase());
  const vw = (f: Finding): string => `${norm(f)}\u0000${f.where}`;
  const kvw = (f: Finding): string => `${f.kind}\u0000${f.value}\u0000${f.where}`;
  const replacedWhere = new Set<string>();
  const contactWhere = new Set(structural.filter((f) => f.kind === 'contact_hash').map((f) => f.where));
  for (const k of known) if (contactWhere.has(k.where)) replacedWhere.add(k.where);
  const out: Finding[] = [];
  const seen = new Set<string>();
  const taken = new Set<string>();
  const add = (f: Finding, ranked: boolean): void => {
    const key = kvw(f);
    if (seen.has(key) || (ranked && taken.has(vw(f)))) return;
    seen.add(key);
    out.push(f);
  };
  for (const f of structural) if (!(f.kind === 'contact_hash' && replacedWhere.has(f.where))) add(f, false);
  for (const f of out) taken.add(vw(f));
  for (const f of known) add(f, true);
  for (const f of out) taken.add(vw(f));
  for (const f of pattern) add(f, true);
  return out;
}

describe('mergeFindings', () => {
  it('agrees with the reference merge on random tiers (duplicates, case, phones, contact hashes)', () => {
    const kinds = ['email', 'phone', 'contact_hash', 'token'] as const;
    // NUL-joined keys collide for 'a\u0000b' at 'w' and 'a' at 'b\u0000w': both merges keep that.
    const values = ['alice@example.org', 'ALICE@example.org', '+447700900123', '447700900123', 'abc', 'ABC', 'a', 'a\u0000b'];
    const wheres = ['request.query.a', 'request.body.addresses[0]', 'request.body.addresses[1]', 'w', 'b\u0000w'];
    let seed = 11;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) >>> 16) % n;
    const tier = (method: string, size: number): Finding[] =>
      Array.from({ length: rnd(size) }, () => ({ kind: kinds[rnd(kinds.length)]!, value: values[rnd(values.length)]!, where: wheres[rnd(wheres.length)]!, method }));
    // Tiers of 0-4 take the pairwise path; 0-12 cross into the keyed one (over 24 in all).
    for (let i = 0; i < 4000; i++) {
      const size = i % 2 === 0 ? 5 : 13;
      const s = tier('structural', size);
      const k = tier('known-value:plain', size);
      const p = tier('pattern', size);
      expect(mergeFindings(s, k, p, []), JSON.stringify({ s, k, p })).toEqual(reference(s, k, p));
    }
  });
  it('keeps at most MAX_FINDINGS and says so', () => {
    const many = Array.from({ length: 600 }, (_, i) => ({ kind: 'email' as const, value: `u${i}@x.org`, where: 'request.body', method: 'pattern' }));
    const notes: string[] = [];
    expect(mergeFindings([], [], many, notes)).toHaveLength(500);
    expect(notes).toEqual(['600 findings; kept the first 500']);
  });
});
