/**
 * The generic (pattern) tier: every detector over one string, plus what the value's key implies
 * (phone-like keys, Matrix msisdn siblings, credential keys, server-name keys). Each detector has
 * its own cheap gate, so a typical short JSON leaf costs a few `includes` calls.
 */
import { looksLikeSdp, sdpAddresses } from '../sdp.js';
import { detectEmails } from './email.js';
import { detectIps } from './ip.js';
import { detectLocations, locationFromField } from './location.js';
import { detectMatrixIds, isServerName } from './matrix-ids.js';
import { detectPhonesInText, phoneFromField } from './phone.js';
import { detectTokens, TOKEN_KEYS } from './tokens.js';
import type { Candidate } from './types.js';

export type { Candidate } from './types.js';

/** Longest string the pattern tier scans; beyond it only known values are searched. */
export const PATTERN_SCAN_LIMIT = 1024 * 1024;
const SERVER_KEYS = new Set(['matrix_server_name', 'server_name']);

export interface FieldContext {
  /** The JSON key / form or query name holding the value. */
  readonly key: string;
  /** The containing object or array, for sibling context. */
  readonly parent?: unknown;
}

/** Candidates from the value's position alone (whole-value findings). */
export function detectByField(value: string | number, f: FieldContext): Candidate[] {
  const v = String(value);
  const out: Candidate[] = [];
  const phone = phoneFromField(f.key, value, f.parent);
  if (phone) out.push({ kind: 'phone', value: phone, start: 0, end: v.length });
  const loc = locationFromField(f.key, value, f.parent);
  if (loc) out.push({ kind: 'location', value: loc, start: 0, end: v.length });
  const k = f.key.toLowerCase();
  if (typeof value === 'string' && v.length >= 6 && TOKEN_KEYS.has(k)) {
    out.push({ kind: 'token', value: v, start: 0, end: v.length });
  }
  if (typeof value === 'string' && SERVER_KEYS.has(k) && isServerName(v)) {
    out.push({ kind: 'server_name', value: v, start: 0, end: v.length });
  }
  return out;
}

// Letters, digits, `_` and `-` only: ids, enum values, path words, hex (most request units). Every
// detector but the Synapse-token one needs one of `@ . : + % = ! $ #`, a space or `candidate:`.
const WORDISH = /^[A-Za-z0-9_-]*$/;

// Request units repeat from one exchange to the next (the same user id, e-mail, server name or
// User-Agent in every request a client sends), and the full detector pass is ~1 µs: short texts
// remember their answer. A pure function of the text, so the memo cannot change a result; it is
// bounded (past MEMO_ENTRIES distinct texts it starts over) and holds frozen answers only.
const MEMO_TEXT_MAX = 256;
const MEMO_ENTRIES = 4096;
let memo = new Map<string, readonly Candidate[]>();
const NO_CANDIDATES: readonly Candidate[] = Object.freeze([]);

function frozen(list: Candidate[]): readonly Candidate[] {
  if (list.length === 0) return NO_CANDIDATES;
  for (const c of list) Object.freeze(c);
  return Object.freeze(list);
}

/** Candidates found in the text itself (read-only). SDP-looking text keeps private host candidates. */
export function detectInText(input: string): readonly Candidate[] {
  const text = input.length > PATTERN_SCAN_LIMIT ? input.slice(0, PATTERN_SCAN_LIMIT) : input;
  if (WORDISH.test(text)) return text.includes('sy') ? detectTokens(text) : NO_CANDIDATES;
  if (text.length > MEMO_TEXT_MAX) return detectInTextAll(text);
  let found = memo.get(text);
  if (found === undefined) {
    found = frozen(detectInTextAll(text));
    if (memo.size >= MEMO_ENTRIES) memo = new Map();
    memo.set(text, found);
  }
  return found;
}

const append = (out: Candidate[], more: readonly Candidate[]): void => {
  for (const c of more) out.push(c);
};

/** Every detector over `text` (no word-only shortcut): detectInText without its fast path. */
export function detectInTextAll(text: string): Candidate[] {
  const out: Candidate[] = [];
  if (looksLikeSdp(text)) {
    for (const a of sdpAddresses(text)) {
      const start = Math.max(0, text.indexOf(a.address));
      out.push({ kind: 'ip_address', value: a.address, start, end: start + a.address.length, detail: `#${a.source}` });
    }
  } else {
    append(out, detectIps(text));
  }
  append(out, detectEmails(text));
  append(out, detectPhonesInText(text));
  append(out, detectMatrixIds(text));
  append(out, detectTokens(text));
  append(out, detectLocations(text));
  return out;
}

/** Both tiers over one value, deduplicated by (kind, value, detail). */
export function detectPatterns(value: string | number, field?: FieldContext): Candidate[] {
  const all = field ? detectByField(value, field) : [];
  if (typeof value === 'string') {
    const found = detectInText(value);
    // `browser_version=131.0.0.0`, `$os_version`: a dotted version is never an address.
    if (field !== undefined && found.length > 0 && /version/i.test(field.key)) append(all, found.filter((c) => c.kind !== 'ip_address'));
    else append(all, found);
  }
  if (all.length < 2) return all;
  const seen = new Set<string>();
  return all.filter((c) => {
    const key = `${c.kind}\u0000${c.value}\u0000${c.detail ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
