/**
 * Email addresses in free text: a bounded regex, then the domain must end in an ICANN public
 * suffix (tldts, bundled list, no network). This rejects
 * `icon@2x.png`, `foo@localhost` and Matrix ids (`@alice:matrix.org` has no local part and no
 * dotted domain after the `@`), and finds `mailto:c@d.io` and `user%40example.org`.
 */
import { parse } from 'tldts';
import type { Candidate } from './types.js';
import { percentDecodeLenient } from './text.js';

// Local part ≤ 64 (RFC 5321) and ≤ 8 labels keep the scan linear on hostile input. The local part
// uses the practical set, not RFC 5322's: `=`, `&`, `'` and `/` are URL and JSON delimiters
// (`?email=bob@x.org` must yield `bob@x.org`), and addresses using them are vanishingly rare.
const EMAIL =
  /[A-Za-z0-9._+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,63}(?![A-Za-z0-9-])/g;

const icann = new Map<string, boolean>();

/** True when `domain` has a registrable name under an ICANN suffix (cached: few distinct domains). */
export function isIcannDomain(domain: string): boolean {
  const d = domain.toLowerCase();
  let ok = icann.get(d);
  if (ok === undefined) {
    const r = parse(d);
    ok = r.isIcann === true && r.domain !== null && !r.isIp;
    if (icann.size > 10_000) icann.clear();
    icann.set(d, ok);
  }
  return ok;
}

export function detectEmails(text: string): Candidate[] {
  if (!text.includes('@') && !text.includes('%40')) return [];
  const s = percentDecodeLenient(text);
  const out: Candidate[] = [];
  EMAIL.lastIndex = 0;
  for (let m = EMAIL.exec(s); m !== null; m = EMAIL.exec(s)) {
    let value = m[0];
    let start = m.index;
    // A leading dot is never part of an address (`...bob@x.org` in prose).
    while (value.startsWith('.')) (value = value.slice(1)), start++;
    const at = value.indexOf('@');
    if (at <= 0 || !isIcannDomain(value.slice(at + 1))) continue;
    out.push({ kind: 'email', value, start, end: start + value.length });
  }
  return out;
}

/** Whole-value check used for `threepid` resolution and keyed fields. */
export function looksLikeEmail(value: string): boolean {
  const c = detectEmails(value);
  return c.length === 1 && c[0]!.value.length === value.trim().length;
}
