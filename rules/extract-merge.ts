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
  if (out.length > MAX_FINDINGS) {
    notes.push(`${out.length} findings; kept the first ${MAX_FINDINGS}`);
    return out.slice(0, MAX_FINDINGS);
  }
  return out;
}
