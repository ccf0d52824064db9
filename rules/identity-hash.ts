/**
 * Matrix identity-service v2 hashed lookup (spec identity-service-api "Hashing"):
 * `addresses[i] = base64url_unpadded(sha256("<address> <medium> <pepper>"))`, the pepper sent in
 * clear in the same body. With the user's declared emails and phones we recompute the table and
 * name the contacts a lookup revealed. matrix-js-sdk lower-cases the whole address; msisdn is
 * E.164 digits without `+`. The standard base64 alphabet (early MSC2134 / Olm helper) is accepted
 * too, and `algorithm: "none"` sends `"<address> <medium>"` in plaintext.
 */
import { createHash } from 'node:crypto';
import type { Identity, KnownValueIndex } from './known-values.js';

export function matrixIdentityHash(address: string, medium: string, pepper: string): string {
  return createHash('sha256').update(`${address} ${medium} ${pepper}`, 'utf8').digest('base64url');
}

export interface IdentityHashHit {
  /** Index into `addresses`. */
  readonly index: number;
  readonly identity: Identity;
  /** e.g. `matrix-is-sha256(lower)`, `matrix-is-sha256-base64(lower)`, `matrix-is-none(digits)`. */
  readonly chain: string;
}

type Table = Map<string, { identity: Identity; chain: string }>;
const memo = new WeakMap<KnownValueIndex, Map<string, Table>>();

// Phones hash as digits (spec); e164 is tried defensively for clients that keep the `+`.
const PHONE_FORMS = new Set(['digits', 'e164']);

function tableFor(index: KnownValueIndex, pepper: string): Table {
  let byPepper = memo.get(index);
  if (!byPepper) memo.set(index, (byPepper = new Map()));
  const hit = byPepper.get(pepper);
  if (hit) return hit;
  const t: Table = new Map();
  for (const { identity, medium, forms } of index.threepids) {
    for (const f of forms) {
      if (medium === 'msisdn' && !PHONE_FORMS.has(f.name)) continue;
      const h = matrixIdentityHash(f.text, medium, pepper);
      const add = (k: string, chain: string): void => void (t.has(k) || t.set(k, { identity, chain }));
      add(h, `matrix-is-sha256(${f.name})`);
      add(h.replace(/-/g, '+').replace(/_/g, '/'), `matrix-is-sha256-base64(${f.name})`);
      add(`${f.text} ${medium}`.toLowerCase(), `matrix-is-none(${f.name})`);
    }
  }
  if (byPepper.size >= 16) byPepper.clear();
  byPepper.set(pepper, t);
  return t;
}

/**
 * Matches a lookup body `{addresses, pepper, algorithm}` against the declared identities.
 * Anything that is not that shape yields nothing.
 */
export function matchIdentityLookup(body: unknown, index: KnownValueIndex): IdentityHashHit[] {
  if (typeof body !== 'object' || body === null || index.threepids.length === 0) return [];
  const { pepper, addresses, algorithm } = body as Record<string, unknown>;
  if (typeof pepper !== 'string' || !Array.isArray(addresses)) return [];
  const t = tableFor(index, pepper);
  const none = algorithm === 'none';
  const out: IdentityHashHit[] = [];
  addresses.forEach((a, i) => {
    if (typeof a !== 'string') return;
    const e = t.get(none ? a.trim().toLowerCase() : a.replace(/=+$/, ''));
    if (e && none === e.chain.startsWith('matrix-is-none')) out.push({ index: i, ...e });
  });
  return out;
}
