/**
 * Matrix identifiers (spec appendix "Identifier Grammar"): user `@local:server`
 * (strict localpart grammar), room `!opaque:server` and room v12 `!` + 43 url-safe base64 (no
 * server), event `$` + 43 base64 (v3 standard alphabet, v4+ url-safe) and legacy `$opaque:server`,
 * alias `#alias:server`. The server must be a dotted hostname, an IPv4 or a [IPv6] literal
 * (optionally with a port), so `$current_url`, `#fff` and CSS `@media:screen` do not match.
 */
import type { Kind } from '../../core/vocabulary.js';
import type { Candidate } from './types.js';
import { percentDecodeLenient } from './text.js';

const SERVER = String.raw`(?:\[[0-9A-Fa-f:.]{2,45}\]|(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})?\.){1,10}[A-Za-z0-9-]{1,63})(?::\d{1,5})?`;
const SIGIL_ID = new RegExp(
  String.raw`(?<![A-Za-z0-9._-])(?:([@])[a-z0-9._=\-/+]{1,255}|([!$#])[A-Za-z0-9._=\-/+]{1,255}):${SERVER}(?![A-Za-z0-9-])`,
  'g',
);
// v12 room ids and v3+ event ids: the sigil plus a 43-character unpadded sha256 in base64.
const HASH_ID = /(?<![A-Za-z0-9_+-])([!$])([A-Za-z0-9+/_-]{43})(?![A-Za-z0-9+_=:-])/g;
const SIGIL_KIND: Record<string, Kind> = { '@': 'mxid', '!': 'room_id', $: 'event_id', '#': 'room_alias' };
const SERVER_RE = new RegExp(`^${SERVER}$`);

/** True for a Matrix server name: hostname (dotted), IPv4 or [IPv6], optional port. */
export function isServerName(s: string): boolean {
  return s.length <= 255 && SERVER_RE.test(s);
}

export function detectMatrixIds(text: string): Candidate[] {
  if (!/[@!$#]|%(?:40|21|24|23)/i.test(text)) return [];
  const s = percentDecodeLenient(text);
  const out: Candidate[] = [];
  if (s.includes(':')) {
    SIGIL_ID.lastIndex = 0;
    for (let m = SIGIL_ID.exec(s); m !== null; m = SIGIL_ID.exec(s)) {
      const kind = SIGIL_KIND[m[1] ?? m[2] ?? ''];
      if (kind) out.push({ kind, value: m[0], start: m.index, end: m.index + m[0].length });
    }
  }
  // A hash id is a sigil plus 43 characters: shorter text cannot hold one.
  if (s.length < 44) return out;
  HASH_ID.lastIndex = 0;
  for (let m = HASH_ID.exec(s); m !== null; m = HASH_ID.exec(s)) {
    const body = m[2]!;
    // Room ids are url-safe only (v12); `$` ids take either alphabet but never mix them.
    if (m[1] === '!' && /[+/]/.test(body)) continue;
    if (/[+/]/.test(body) && /[-_]/.test(body)) continue;
    out.push({ kind: m[1] === '!' ? 'room_id' : 'event_id', value: m[0], start: m.index, end: m.index + m[0].length });
  }
  return out;
}
