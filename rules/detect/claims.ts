/**
 * What the claims of a decoded JWT are, by claim name: tokens that services mint for a Matrix user
 * name them in known places. LiveKit (lk-jwt-service) puts `<mxid>:<device_id>` in `sub`; Jitsi's
 * Matrix auth (prosody-mod-auth-matrix-user-verification, Element's Jitsi wrapper) puts the display
 * name and avatar in `context.user`, and the room id, homeserver name and an OpenID token in
 * `context.matrix`. Values elsewhere in a payload are left to the text detectors.
 */
import type { Kind } from '../../core/vocabulary.js';
import { detectMatrixIds } from './matrix-ids.js';

export interface Claim {
  /** Path inside the payload, in extractor syntax. */
  readonly path: string;
  readonly kind: Kind;
  readonly value: string;
}

const CLAIMS: ReadonlyArray<readonly [path: readonly string[], kind: Kind]> = [
  [['context', 'user', 'name'], 'display_name'],
  [['context', 'user', 'avatar'], 'avatar_url'],
  [['context', 'user', 'email'], 'email'],
  [['context', 'matrix', 'room_id'], 'room_id'],
  [['context', 'matrix', 'server_name'], 'server_name'],
  [['context', 'matrix', 'token'], 'token'],
  [['email'], 'email'],
];

function at(obj: unknown, path: readonly string[]): unknown {
  let v = obj;
  for (const k of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

export function claimCandidates(payload: unknown): Claim[] {
  const out: Claim[] = [];
  for (const [path, kind] of CLAIMS) {
    const v = at(payload, path);
    if (typeof v === 'string' && v.trim() !== '') out.push({ path: path.join('.'), kind, value: v });
  }
  const sub = at(payload, ['sub']);
  if (typeof sub === 'string' && sub.startsWith('@')) {
    // `@alice:example.org:DEVICEID`: the Matrix ID is the longest prefix the id grammar accepts.
    const id = detectMatrixIds(sub).find((c) => c.kind === 'mxid' && c.start === 0);
    if (id) {
      out.push({ path: 'sub', kind: 'mxid', value: id.value });
      const rest = sub.slice(id.end);
      if (/^:[A-Za-z0-9_+/=-]{4,}$/.test(rest)) out.push({ path: 'sub', kind: 'device_id', value: rest.slice(1) });
    }
  }
  return out;
}
