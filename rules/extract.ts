/**
 * extractFindings: which personal data one exchange carries. Three tiers, most certain first:
 * the matched rule's structural extractors, the user's known values (plus the
 * identity-service v2 hash when a body carries a `pepper`), then generic pattern detectors over the
 * request. Pure: no I/O, no clock, and total: malformed traffic becomes notes, never a throw.
 */
import type { Finding } from '../core/audit.js';
import { decodeBody, EMPTY_DECODED, type DecodedBody } from '../core/decode.js';
import type { Exchange } from '../core/exchange.js';
import { detectPatterns } from './detect/index.js';
import { bearerToken } from './detect/tokens.js';
import { runExtractors, type Side } from './extract-structural.js';
import { mergeFindings } from './extract-merge.js';
import { bodyDocs, joinWhere, requestUnits, type Doc, type Unit } from './extract-units.js';
import { claimCandidates } from './detect/claims.js';
import { matchIdentityLookup } from './identity-hash.js';
import { findKnownInBytes, knownValuesIn, type KnownValueIndex } from './known-values.js';
import { joinKey } from './json-path.js';
import type { RuleMatch } from './types.js';

export interface ExtractContext {
  /** The exchange goes to one of the user's own servers (--first-party). */
  readonly firstParty: boolean;
  readonly known: KnownValueIndex;
}

export interface ExtractResult {
  readonly findings: Finding[];
  readonly notes: string[];
}

export function extractFindings(exchange: Exchange, match: RuleMatch | null, ctx: ExtractContext): ExtractResult {
  // A first-party exchange no rule cares about (a /sync to your own homeserver) is not a leak.
  if (ctx.firstParty && !match) return { findings: [], notes: [] };
  const notes: string[] = [];
  try {
    return { findings: extract(exchange, match, ctx, notes), notes };
  } catch (e) {
    // Unreachable by design; if a detector has a bug, the exchange still gets recorded.
    notes.push(`extract: internal error: ${e instanceof Error ? e.message : String(e)}`);
    return { findings: [], notes };
  }
}

function extract(ex: Exchange, match: RuleMatch | null, ctx: ExtractContext, notes: string[]): Finding[] {
  const req = requestUnits(ex, match?.params ?? {});
  for (const n of req.body.notes) notes.push(`${req.bodyWhere}: ${n}`);
  for (const n of req.notes) notes.push(n);
  const structural = match ? runExtractors(ex, match, sides(ex, req.body, req.bodyWhere, req.docs, notes), notes) : [];
  const known = knownFindings(req.units, req.body, req.bodyWhere, ctx.known);
  const pattern = patternFindings(req.units, ctx.firstParty);
  for (const d of req.docs) {
    // A decoded JWT's claims say what each value is (LiveKit `sub`, Jitsi `context.user.name`).
    // The homeserver's own token sent to the homeserver is not a leak, nor is what it says.
    if (ctx.firstParty && d.where.startsWith(AUTH_WHERE)) continue;
    if (d.where.endsWith('|jwt')) for (const c of claimCandidates(d.json)) pattern.push({ kind: c.kind, value: c.value, where: joinWhere(d.where, c.path), method: 'pattern' });
  }
  return dropDecodedRepeats(mergeFindings(structural, known, pattern, notes));
}

/**
 * One finding per datum and field: a value found both in a field and in what that field decodes to
 * (a known value's base64 transform and the decoded text; the raw text and its decoded JSON) is
 * reported once, by the best method (structural, then known-value, then pattern), at the field
 * itself when the methods tie.
 */
function dropDecodedRepeats(findings: Finding[]): Finding[] {
  if (!findings.some((f) => f.where.includes('|'))) return findings;
  const rank = (f: Finding): number => (f.method === 'structural' ? 0 : f.method === 'pattern' ? 2 : 1);
  const rootOf = (w: string): string => {
    const bar = w.indexOf('|');
    return bar === -1 ? w : w.slice(0, bar);
  };
  const key = (f: Finding): string => `${f.kind}\u0000${f.value.toLowerCase()}\u0000${rootOf(f.where)}`;
  // Per datum and field: best method first, then the field itself before what it decodes to.
  const best = new Map<string, number>();
  for (const f of findings) {
    const score = rank(f) * 2 + (f.where.includes('|') ? 1 : 0);
    const k = key(f);
    const b = best.get(k);
    if (b === undefined || score < b) best.set(k, score);
  }
  return findings.filter((f) => rank(f) * 2 + (f.where.includes('|') ? 1 : 0) === best.get(key(f)));
}

function sides(ex: Exchange, reqBody: DecodedBody, reqWhere: string, reqDocs: readonly Doc[], notes: string[]): { request: Side; response: Side } {
  const ws = ex.kind === 'websocket' ? ex.websocket : undefined;
  let res: DecodedBody | undefined;
  let resDocs: Doc[] | undefined;
  const response: Side = {
    bodyWhere: ws ? 'websocket.data' : 'response.body',
    headers: ex.response?.headers ?? [],
    docs: () => (resDocs ??= bodyDocs(response.body(), response.bodyWhere)),
    body: () => {
      if (res) return res;
      if (ws) res = ws.direction === 'receive' ? decodeBody(ws.data, []) : EMPTY_DECODED;
      else res = ex.response ? decodeBody(ex.response.body, ex.response.headers) : EMPTY_DECODED;
      for (const n of res.notes) notes.push(`${response.bodyWhere}: ${n}`);
      return res;
    },
  };
  return { request: { bodyWhere: reqWhere, headers: ex.request.headers, body: () => reqBody, docs: () => reqDocs }, response };
}

const known = (kind: Finding['kind'], value: string, where: string, chain: string): Finding => ({
  kind,
  value,
  where,
  method: `known-value:${chain}`,
});

function knownFindings(units: readonly Unit[], body: DecodedBody, bodyWhere: string, index: KnownValueIndex): Finding[] {
  if (index.identities.length === 0) return [];
  const out: Finding[] = [];
  // One scan per unit, no joined pre-pass: a unit's hits are hits of the joined text too, so the
  // pre-pass only saved work when nothing matched, and findKnownValues allocates nothing then.
  for (const u of units) {
    for (const v of knownValuesIn(index, String(u.value))) {
      out.push(known(v.identity.kind, v.identity.value, u.where, v.chain));
    }
  }
  if (body.type === 'binary') {
    for (const v of findKnownInBytes(index, body.bytes)) out.push(known(v.identity.kind, v.identity.value, bodyWhere, v.chain));
  }
  if (body.type === 'json') {
    for (const h of matchIdentityLookup(body.json, index)) {
      out.push(known(h.identity.kind, h.identity.value, joinWhere(bodyWhere, joinKey('addresses', h.index)), h.chain));
    }
  }
  return out;
}

const AUTH_WHERE = 'request.header.authorization|';

function patternFindings(units: readonly Unit[], firstParty: boolean): Finding[] {
  const out: Finding[] = [];
  for (const u of units) {
    if (!u.patterns || (firstParty && u.depth > 0 && u.where.startsWith(AUTH_WHERE))) continue;
    if (u.header === 'authorization') {
      // The homeserver's own token sent to the homeserver is how Matrix works, not a leak.
      const t = firstParty ? null : bearerToken(String(u.value));
      if (t) out.push({ kind: 'token', value: t, where: u.where, method: 'pattern' });
      continue;
    }
    const field = u.key !== undefined ? { key: u.key, parent: u.parent } : undefined;
    for (const c of detectPatterns(u.value, field)) {
      out.push({ kind: c.kind, value: c.value, where: u.where + (c.detail ?? ''), method: 'pattern' });
    }
  }
  return out;
}
