/**
 * The transform pool for one declared value (after Englehardt et al.'s
 * LeakDetector): normalised forms, each plain / URL-encoded / base64 / base64url / hex, digested
 * with md5, sha1, sha256, sha512 (hex, HEX, base64, base64url), and a second md5/sha256 layer over
 * the hex digest (`sha256(md5(x))`, as some ad tech does). Every variant is labelled with its chain.
 */
import { createHash } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { Kind } from '../../core/vocabulary.js';

export interface Form {
  /** `plain` (as given), `lower`, `casefold`, `e164`, `digits`, `intl00`, `national`. */
  readonly name: string;
  readonly text: string;
}

export interface Variant {
  readonly chain: string;
  readonly text: string;
}

const HASHES = ['md5', 'sha1', 'sha256', 'sha512'] as const;
const LAYER2 = ['md5', 'sha256'] as const;

/**
 * Unicode full case folding approximated as NFKC + upper + lower (`Strauß` → `strauss`), which is
 * what the Matrix 3PID appendix asks clients to do to emails before hashing.
 */
export function caseFold(s: string): string {
  return s.normalize('NFKC').toUpperCase().toLowerCase();
}

function distinct(forms: Form[]): Form[] {
  const seen = new Set<string>();
  return forms.filter((f) => f.text !== '' && !seen.has(f.text) && (seen.add(f.text), true));
}

/** Normalised forms of a value, most canonical first (duplicates keep the first name). */
export function formsOf(kind: Kind, value: string): Form[] {
  const v = value.trim();
  if (kind === 'email') {
    return distinct([
      { name: 'lower', text: v.toLowerCase() },
      { name: 'casefold', text: caseFold(v) },
      { name: 'plain', text: v },
    ]);
  }
  if (kind === 'phone') {
    const p = parsePhoneNumberFromString(v.startsWith('00') ? `+${v.slice(2)}` : v);
    if (!p) return distinct([{ name: 'plain', text: v }]);
    const digits = p.number.slice(1);
    return distinct([
      { name: 'e164', text: p.number },
      { name: 'digits', text: digits },
      { name: 'intl00', text: `00${digits}` },
      { name: 'national', text: p.formatNational().replace(/\D/g, '') },
      { name: 'plain', text: v },
    ]);
  }
  return distinct([
    { name: 'plain', text: v },
    { name: 'lower', text: v.toLowerCase() },
  ]);
}

const hex = (b: Buffer): string => b.toString('hex');
const digest = (alg: string, s: string): Buffer => createHash(alg).update(s, 'utf8').digest();
const unpad = (s: string): string => s.replace(/=+$/, '');

/**
 * All variants of one form. base64 texts are stored unpadded: the unpadded text is a prefix of
 * the padded one, so one substring search finds both (callers also index the padded text).
 */
export function variantsOf(form: Form, isGiven: boolean): Variant[] {
  const f = form.name;
  const t = form.text;
  const out: Variant[] = [{ chain: isGiven ? 'plain' : f, text: t }];
  const url = encodeURIComponent(t);
  if (url !== t) out.push({ chain: `url(${f})`, text: url });
  const raw = Buffer.from(t, 'utf8');
  out.push({ chain: `base64(${f})`, text: unpad(raw.toString('base64')) });
  out.push({ chain: `base64url(${f})`, text: raw.toString('base64url') });
  out.push({ chain: `hex(${f})`, text: hex(raw) });
  for (const alg of HASHES) {
    const d = digest(alg, t);
    out.push({ chain: `${alg}(${f})`, text: hex(d) });
    out.push({ chain: `upper(${alg}(${f}))`, text: hex(d).toUpperCase() });
    out.push({ chain: `base64(${alg}(${f}))`, text: unpad(d.toString('base64')) });
    out.push({ chain: `base64url(${alg}(${f}))`, text: d.toString('base64url') });
  }
  for (const inner of LAYER2) {
    const h = hex(digest(inner, t));
    for (const outer of LAYER2) out.push({ chain: `${outer}(${inner}(${f}))`, text: hex(digest(outer, h)) });
  }
  return out;
}
