/**
 * Known values: identities the user declares (`--identity KIND=VALUE`, `--identities FILE`), the
 * high-precision detector tier (an exact match of a ≥ 6-character value or digest
 * almost never happens by chance). The index precomputes every variant once; lookups are a Map
 * for whole values and short tokens plus a one-pass substring search for variants of ≥ 6
 * characters (cheaper than one `includes` per pattern, which grows with the number of variants).
 */
import { ConfigError } from '../core/errors.js';
import { isKind, KINDS, type Kind } from '../core/vocabulary.js';
import { formsOf, variantsOf, type Form } from './detect/known-variants.js';
import { parsePhoneValue } from './detect/phone.js';

export interface Identity {
  readonly kind: Kind;
  /** As the user gave it (trimmed). Findings report this value. */
  readonly value: string;
}

export interface KnownVariant {
  readonly identity: Identity;
  /** Position in the pool, simplest first; the lowest-ranked hit per identity is reported. */
  readonly rank: number;
  /** Transform chain, e.g. `plain`, `sha256(lower)`, `base64url(plain)`. */
  readonly chain: string;
  readonly text: string;
}

export interface KnownValueIndex {
  readonly identities: readonly Identity[];
  /** Whole-value and token lookup (also holds the short variants). */
  readonly exact: ReadonlyMap<string, KnownVariant>;
  /** Variants of ≥ SUBSTRING_MIN characters, searched with `includes`, simplest first. */
  readonly long: readonly KnownVariant[];
  /** Lower-cased email/mxid forms for a case-insensitive pass over text with capitals. */
  readonly folded: readonly KnownVariant[];
  /** Email and phone forms for the identity-service hash (rules/identity-hash.ts). */
  readonly threepids: ReadonlyArray<{ identity: Identity; medium: 'email' | 'msisdn'; forms: readonly Form[] }>;
  readonly hasShort: boolean;
  /**
   * The long variants by a 16-bit hash of their first 4 characters (rolling-hash scan, see
   * findKnownValues): ANCHOR_SLOTS entries, undefined where no variant starts that way.
   */
  readonly anchors: ReadonlyArray<readonly KnownVariant[] | undefined>;
  /** One bit per slot of `anchors` (8 KiB): the per-character test stays in cache. */
  readonly anchorBits: Uint8Array;
}

export const SUBSTRING_MIN = 6;

function validate(kind: Kind, value: string): string | null {
  if (value === '') return 'empty value';
  if (kind === 'email' && !/^[^@\s]+@[^@\s]+$/.test(value)) return `not an email address: ${value}`;
  if (kind === 'phone' && (!/^(?:\+|00)/.test(value) || parsePhoneValue(value) === null)) {
    return `not an international phone number (use +CC…): ${value}`;
  }
  if (kind === 'mxid' && !/^@[^:\s]+:\S+$/.test(value)) return `not a Matrix user id (@user:server): ${value}`;
  return null;
}

function parseSpec(spec: string): Identity | string {
  const eq = spec.indexOf('=');
  if (eq <= 0) return `expected KIND=VALUE, got ${JSON.stringify(spec)}`;
  const kind = spec.slice(0, eq).trim().toLowerCase();
  const value = spec.slice(eq + 1).trim();
  if (!isKind(kind)) return `unknown kind ${JSON.stringify(kind)} (kinds: ${KINDS.join(', ')})`;
  const bad = validate(kind, value);
  return bad ?? { kind, value };
}

/** `--identity email=alice@example.org`. Throws ConfigError naming the flag. */
export function parseIdentity(spec: string): Identity {
  const r = parseSpec(spec);
  if (typeof r === 'string') throw new ConfigError(`--identity: ${r}`);
  return r;
}

/** An `--identities` file: one `kind=value` a line, `#` comments, blank lines. */
export function parseIdentitiesText(text: string, fileName: string): Identity[] {
  const out: Identity[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const r = parseSpec(line);
    if (typeof r === 'string') throw new ConfigError(`${fileName}:${i + 1}: ${r}`);
    out.push(r);
  });
  return out;
}

export function buildKnownValueIndex(identities: readonly Identity[]): KnownValueIndex {
  const exact = new Map<string, KnownVariant>();
  const long: KnownVariant[] = [];
  const folded: KnownVariant[] = [];
  const threepids: Array<{ identity: Identity; medium: 'email' | 'msisdn'; forms: readonly Form[] }> = [];
  let hasShort = false;
  let rank = 0;
  const seen = new Set<string>();
  for (const identity of identities) {
    const key = `${identity.kind}=${identity.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const forms = formsOf(identity.kind, identity.value);
    if (identity.kind === 'email') threepids.push({ identity, medium: 'email', forms });
    if (identity.kind === 'phone') threepids.push({ identity, medium: 'msisdn', forms });
    for (const form of forms) {
      for (const v of variantsOf(form, form.text === identity.value)) {
        const kv: KnownVariant = { identity, rank: rank++, chain: v.chain, text: v.text };
        if (!exact.has(v.text)) exact.set(v.text, kv);
        if (v.chain.startsWith('base64(')) {
          // Also index the padded base64 for whole-value hits.
          const pad = (4 - (v.text.length % 4)) % 4;
          if (pad > 0 && !exact.has(v.text + '='.repeat(pad))) exact.set(v.text + '='.repeat(pad), kv);
        }
        if (v.text.length >= SUBSTRING_MIN) long.push(kv);
        else hasShort = true;
      }
      const ci = identity.kind === 'email' || identity.kind === 'mxid';
      if (ci && form.text === form.text.toLowerCase() && form.text.length >= SUBSTRING_MIN) {
        folded.push({ identity, rank: rank++, chain: form.text === identity.value ? 'plain' : form.name, text: form.text });
      }
    }
  }
  const anchors = new Array<KnownVariant[] | undefined>(ANCHOR_SLOTS).fill(undefined);
  const anchorBits = new Uint8Array(ANCHOR_SLOTS >> 3);
  for (const v of long) {
    const slot = slotOf(anchorKey(v.text, 0));
    (anchors[slot] ??= []).push(v);
    anchorBits[slot >> 3]! |= 1 << (slot & 7);
  }
  return { identities: [...identities], exact, long, folded, threepids, hasShort, anchors, anchorBits };
}

// Multi-pattern search (Rabin-Karp style): the low bytes of 4 consecutive char codes form a key;
// a 64 Ki-bit table indexed by a 16-bit hash of it rejects almost every position, and only the
// variants of an occupied slot are verified with startsWith. One pass over the text instead of one
// `includes` per variant (~8x faster here). The key stays an int32 (no Map probe, no boxing).
const ANCHOR_SLOTS = 1 << 16;
const anchorKey = (s: string, i: number): number =>
  ((s.charCodeAt(i) & 0xff) << 24) | ((s.charCodeAt(i + 1) & 0xff) << 16) | ((s.charCodeAt(i + 2) & 0xff) << 8) | (s.charCodeAt(i + 3) & 0xff);
const slotOf = (k: number): number => (k ^ (k >>> 16)) & 0xffff;

/**
 * The best (lowest-rank) variant per identity, in order of each identity's first hit. An array: a
 * text names one or two identities, and a Map per call cost more than the scan here.
 */
type Hits = KnownVariant[];

function slotOfIdentity(hits: Hits, identity: Identity): number {
  for (let i = 0; i < hits.length; i++) if (hits[i]!.identity === identity) return i;
  return -1;
}

/** Keep `v` unless its identity already has a simpler (lower-rank) hit. */
function keep(hits: Hits | undefined, v: KnownVariant): Hits {
  if (hits === undefined) return [v];
  const at = slotOfIdentity(hits, v.identity);
  if (at === -1) hits.push(v);
  else if (v.rank < hits[at]!.rank) hits[at] = v;
  return hits;
}

/** Set `v` as its identity's hit (replacing any), or only add it when `onlyNew`. */
function put(hits: Hits | undefined, v: KnownVariant, onlyNew: boolean): Hits {
  if (hits === undefined) return [v];
  const at = slotOfIdentity(hits, v.identity);
  if (at === -1) hits.push(v);
  else if (!onlyNew) hits[at] = v;
  return hits;
}

const TOKEN_SPLIT = /[^\p{L}\p{N}_@+.-]+/u;

/**
 * Which identities a string carries, at most one variant each (the simplest chain found).
 * Cheap when nothing matches: one anchored pass over the text and a Map probe.
 */
export function findKnownValues(index: KnownValueIndex, text: string): KnownVariant[] {
  if (index.identities.length === 0 || text.length === 0) return [];
  // Allocation-free until something matches: extract.ts calls this once per request unit.
  let hits: Hits | undefined;
  if (text.length >= SUBSTRING_MIN) {
    const bits = index.anchorBits;
    let upper = false;
    let k = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 65 && c <= 90) upper = true; // /[A-Z]/, for the case-insensitive pass below
      k = (k << 8) | (c & 0xff);
      if (i < 3) continue;
      const slot = slotOf(k);
      if ((bits[slot >> 3]! & (1 << (slot & 7))) === 0) continue;
      for (const v of index.anchors[slot]!) if (text.startsWith(v.text, i - 3)) hits = keep(hits, v);
    }
    if (upper && index.folded.length > 0) {
      const lower = text.toLowerCase();
      for (const v of index.folded) if (lower.includes(v.text)) hits = put(hits, v, true);
    }
  }
  // A whole-value match names the exact form sent (`00447…` is intl00, not digits inside it).
  const whole = index.exact.get(text);
  if (whole) hits = put(hits, whole, false);
  if (index.hasShort) {
    for (const tok of text.split(TOKEN_SPLIT)) {
      const v = tok.length > 0 && tok.length < SUBSTRING_MIN ? index.exact.get(tok) : undefined;
      if (v) hits = put(hits, v, true);
    }
  }
  return hits ?? [];
}

// The same short strings come back in request after request (a user id, a device id, a server
// name, header values): remember findKnownValues' answer per index for texts up to MEMO_TEXT_MAX
// characters. The answer depends only on (index, text); the memo is bounded (it starts over past
// MEMO_ENTRIES) and dies with the index (a reload builds a new one).
const MEMO_TEXT_MAX = 256;
const MEMO_ENTRIES = 4096;
const NO_HITS: readonly KnownVariant[] = Object.freeze([]);
const memos = new WeakMap<KnownValueIndex, Map<string, readonly KnownVariant[]>>();

/** findKnownValues, remembered for short texts; the answer is read-only (it may be shared). */
export function knownValuesIn(index: KnownValueIndex, text: string): readonly KnownVariant[] {
  if (index.identities.length === 0 || text.length === 0) return NO_HITS;
  if (text.length > MEMO_TEXT_MAX) return findKnownValues(index, text);
  let memo = memos.get(index);
  if (memo === undefined) memos.set(index, (memo = new Map()));
  let hits = memo.get(text);
  if (hits === undefined) {
    const found = findKnownValues(index, text);
    hits = found.length === 0 ? NO_HITS : Object.freeze(found);
    if (memo.size >= MEMO_ENTRIES) memo.clear();
    memo.set(text, hits);
  }
  return hits;
}

/** Known values in a binary body (protobuf, unknown formats): byte search of the long variants. */
export function findKnownInBytes(index: KnownValueIndex, bytes: Buffer, limit = 1024 * 1024): KnownVariant[] {
  const b = bytes.length > limit ? bytes.subarray(0, limit) : bytes;
  const hits = new Map<Identity, KnownVariant>();
  for (const v of index.long) if (!hits.has(v.identity) && b.includes(v.text)) hits.set(v.identity, v);
  return [...hits.values()];
}
