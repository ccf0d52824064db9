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

export function mergeFindings(
  structural: readonly Finding[],
  known: readonly Finding[],
  pattern: readonly Finding[],
  notes: string[],
): Finding[] {
  // Each tier's findings may be dropped by the (value, where) of the tiers before it, never by
  // their own tier's: `taken` grows only between tiers. Keys are built once per finding, and not
  // at all where no later tier can use them (the common case is 0 structural, 2 known, 1 pattern).
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
  if (out.length > MAX_FINDINGS) {
    notes.push(`${out.length} findings; kept the first ${MAX_FINDINGS}`);
    return out.slice(0, MAX_FINDINGS);
  }
  return out;
}
