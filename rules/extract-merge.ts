/**
 * Merging the three tiers into one finding list: one finding per (kind, value, where); for the
 * same (value, where) structural beats known-value beats pattern; a known value at the `where` of
 * a `contact_hash` replaces it (the hash was one of the user's contacts, so report the contact
 * with its kind); at most MAX_FINDINGS per exchange.
 */
import type { Finding } from '../core/audit.js';

export const MAX_FINDINGS = 500;

// Same value: case-insensitive, and phones by digits (a structural `447700900123` and a pattern
// `+447700900123` are one number).
const norm = (f: Finding): string => (f.kind === 'phone' ? f.value.replace(/\D/g, '') : f.value.toLowerCase());
const vw = (f: Finding): string => `${norm(f)}\u0000${f.where}`;
const kvw = (f: Finding): string => `${f.kind}\u0000${f.value}\u0000${f.where}`;

/** Up to this many findings in all, the merge compares them pairwise instead of building keys. */
const SMALL_MERGE = 24;

export function mergeFindings(
  structural: readonly Finding[],
  known: readonly Finding[],
  pattern: readonly Finding[],
  notes: string[],
): Finding[] {
  const small = structural.length + known.length + pattern.length <= SMALL_MERGE && !hasNul(structural) && !hasNul(known) && !hasNul(pattern);
  const out = small ? mergeSmall(structural, known, pattern) : mergeKeyed(structural, known, pattern);
  if (out.length > MAX_FINDINGS) {
    notes.push(`${out.length} findings; kept the first ${MAX_FINDINGS}`);
    return out.slice(0, MAX_FINDINGS);
  }
  return out;
}

// The keys join fields with NUL, so fields holding NUL could collide; the pairwise merge would not
// conflate them, so such (odd) input takes the keyed path and keeps its exact answer.
const hasNul = (list: readonly Finding[]): boolean => list.some((f) => f.value.includes('\u0000') || f.where.includes('\u0000'));

/**
 * The common case (a handful of findings): the same rules as mergeKeyed, by comparing fields, so no
 * key strings are built and hashed. `taken` for a tier is the prefix of `out` from earlier tiers.
 */
function mergeSmall(structural: readonly Finding[], known: readonly Finding[], pattern: readonly Finding[]): Finding[] {
  const out: Finding[] = [];
  const norms: Array<string | undefined> = [];
  const seen = (f: Finding): boolean => out.some((g) => g.kind === f.kind && g.value === f.value && g.where === f.where);
  for (const f of structural) {
    if (f.kind === 'contact_hash' && known.some((k) => k.where === f.where)) continue;
    if (!seen(f)) out.push(f);
  }
  const tier = (list: readonly Finding[]): void => {
    const takenEnd = out.length;
    for (const f of list) {
      if (seen(f)) continue;
      let nf: string | undefined;
      let taken = false;
      for (let i = 0; i < takenEnd && !taken; i++) {
        const g = out[i]!;
        if (g.where !== f.where) continue;
        nf ??= norm(f);
        taken = (norms[i] ??= norm(g)) === nf;
      }
      if (!taken) out.push(f);
    }
  };
  tier(known);
  tier(pattern);
  return out;
}

function mergeKeyed(structural: readonly Finding[], known: readonly Finding[], pattern: readonly Finding[]): Finding[] {
  // Each tier's findings may be dropped by the (value, where) of the tiers before it, never by
  // their own tier's: `taken` grows only between tiers. Keys are built once per finding, and not
  // at all where no later tier can use them.
  let replacedWhere: Set<string> | undefined;
  if (structural.length > 0 && known.length > 0) {
    const contactWhere = new Set(structural.filter((f) => f.kind === 'contact_hash').map((f) => f.where));
    if (contactWhere.size > 0) for (const k of known) if (contactWhere.has(k.where)) (replacedWhere ??= new Set()).add(k.where);
  }
  const out: Finding[] = [];
  const seen = new Set<string>();
  const taken = new Set<string>();
  const laterTiers = known.length > 0 || pattern.length > 0;
  for (const f of structural) {
    if (f.kind === 'contact_hash' && replacedWhere?.has(f.where)) continue;
    const key = kvw(f);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
    if (laterTiers) taken.add(vw(f));
  }
  const tier = (list: readonly Finding[], keepTaken: boolean): void => {
    const added: string[] = [];
    for (const f of list) {
      const key = kvw(f);
      if (seen.has(key)) continue;
      const v = taken.size > 0 || keepTaken ? vw(f) : '';
      if (taken.size > 0 && taken.has(v)) continue;
      seen.add(key);
      out.push(f);
      if (keepTaken) added.push(v);
    }
    for (const v of added) taken.add(v);
  };
  if (known.length > 0) tier(known, pattern.length > 0);
  if (pattern.length > 0) tier(pattern, false);
  return out;
}
