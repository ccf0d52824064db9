/**
 * Phone numbers. Free text: only `+`-prefixed numbers (libphonenumber with NO default country,
 * leniency VALID): with a default country, millisecond timestamps and dates parse as "valid"
 * numbers. Keyed fields (`msisdn`, `phone`, `phone_number` + `country`, Matrix
 * `{medium: "msisdn", address}` and `["msisdn", address]`) may omit the `+`: Matrix stores msisdn
 * as E.164 digits without it (spec appendix "3PID Types"), so they are parsed as `'+' + digits`
 * (or with the given country) and accepted when possible.
 */
import { findPhoneNumbersInText, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import type { Candidate } from './types.js';

// Cheap gate before libphonenumber (~60 µs a call): a `+` then ≥ 7 digits with phone separators.
// `+00:00` (ISO offsets) and `+1` (counters) fail it.
const PLUS_RUN = /\+[\s(]*\d(?:[\s().\-/]{0,2}\d){6,16}/g;
const PHONE_KEYS = new Set(['msisdn', 'phone', 'phone_number', 'phonenumber', 'mobile', 'tel', 'telephone']);
const NONE_FORM = /^\+?(\d{6,15}) msisdn$/;

export function detectPhonesInText(text: string): Candidate[] {
  if (!text.includes('+')) return [];
  const out: Candidate[] = [];
  PLUS_RUN.lastIndex = 0;
  for (let m = PLUS_RUN.exec(text); m !== null; m = PLUS_RUN.exec(text)) {
    // Give the matcher two characters of context each side (it rejects numbers glued to digits).
    const from = Math.max(0, m.index - 2);
    const slice = text.slice(from, m.index + m[0].length + 2);
    try {
      for (const f of findPhoneNumbersInText(slice)) {
        out.push({ kind: 'phone', value: f.number.number, start: from + f.startsAt, end: from + f.endsAt });
      }
    } catch {
      // libphonenumber does not throw on text, but a library bug must not cost the exchange.
    }
  }
  return out;
}

/** ms (13-digit) and s (10-digit) epoch timestamps for 2001–2033 are never phone numbers. */
export function isTimestampLike(digits: string): boolean {
  const n = Number(digits);
  return (digits.length === 13 && n >= 1e12 && n < 2e12) || (digits.length === 10 && n >= 1e9 && n < 2e9);
}

/** A phone value without context: `+…`/`00…` international, else `'+' + digits`, else with `country`. */
export function parsePhoneValue(raw: string, country?: string): string | null {
  const v = raw.trim();
  const digits = v.replace(/[\s().\-/]/g, '');
  if (!/^(?:\+|00)?\d{6,17}$/.test(digits)) return null;
  const bare = digits.replace(/^(?:\+|00)/, '');
  if (digits === bare && isTimestampLike(bare)) return null;
  try {
    if (digits !== bare) return possible(parsePhoneNumberFromString(`+${bare}`));
    const cc = country && /^[A-Za-z]{2}$/.test(country) ? (country.toUpperCase() as CountryCode) : undefined;
    return (cc && possible(parsePhoneNumberFromString(bare, cc))) || possible(parsePhoneNumberFromString(`+${bare}`));
  } catch {
    return null;
  }
}

function possible(p: ReturnType<typeof parsePhoneNumberFromString>): string | null {
  return p && p.isPossible() ? p.number : null;
}

const get = (o: unknown, k: string | number): unknown =>
  typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined;

/**
 * A phone implied by where a JSON/form value sits: its key, or its Matrix siblings. Returns the
 * E.164 number or null.
 */
export function phoneFromField(key: string, value: string | number, parent: unknown): string | null {
  const v = String(value);
  const k = key.toLowerCase();
  if (PHONE_KEYS.has(k)) {
    const c = get(parent, 'country');
    return parsePhoneValue(v, typeof c === 'string' ? c : undefined);
  }
  if (k === 'address' && get(parent, 'medium') === 'msisdn') return parsePhoneValue(v);
  if (k === '1' && Array.isArray(parent) && parent[0] === 'msisdn') return parsePhoneValue(v);
  const none = typeof value === 'string' && v.endsWith(' msisdn') ? NONE_FORM.exec(v) : null;
  return none ? parsePhoneValue(`+${none[1]}`) : null;
}
