/**
 * Structural extractors: a rule's declarative `extract` list (rules/README.md "Extractors") run
 * over the exchange. Highest-confidence tier: the rule knows the API, so a
 * value at `addresses[*]` is a contact hash whatever it looks like.
 */
import type { Finding } from '../core/audit.js';
import type { DecodedBody } from '../core/decode.js';
import { headerValues, type Exchange, type RawHeaders } from '../core/exchange.js';
import type { Kind } from '../core/vocabulary.js';
import { looksLikeEmail } from './detect/email.js';
import { percentDecodeLenient } from './detect/text.js';
import { bearerToken } from './detect/tokens.js';
import { joinWhere, parseCookies, splitUrlPath, type Doc } from './extract-units.js';
import { evalPath } from './json-path.js';
import { sdpAddresses } from './sdp.js';
import type { ExtractKind, ExtractorSpec, RuleMatch } from './types.js';

/** Longest value a structural finding keeps (a whole message body can be megabytes). */
export const MAX_VALUE = 4096;

export interface Side {
  readonly body: () => DecodedBody;
  /** The side's JSON documents: the body or its NDJSON lines, plus (request) decoded JSON layers. */
  readonly docs: () => readonly Doc[];
  /** `request.body`, `response.body` or `websocket.data`. */
  readonly bodyWhere: string;
  readonly headers: RawHeaders;
}

/** `threepid` is email or phone, decided from the value (Matrix 3PID fields whose medium varies). */
export function resolveKind(kind: ExtractKind, value: string): Kind {
  // An email pusher's push key is the address the notifications go to.
  if (kind === 'push_key') return looksLikeEmail(value) ? 'email' : kind;
  if (kind !== 'threepid') return kind;
  return value.includes('@') || looksLikeEmail(value) ? 'email' : 'phone';
}

function scalar(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return null;
  try {
    return JSON.stringify(v) ?? null;
  } catch {
    return null;
  }
}

export function runExtractors(
  ex: Exchange,
  match: RuleMatch,
  sides: { request: Side; response: Side },
  notes: string[],
): Finding[] {
  const out: Finding[] = [];
  const push = (kind: ExtractKind, raw: string | null, where: string): void => {
    // `*` (e.g. `Accept-Language: *` from fetch implementations) says nothing about anyone.
    if (raw === null || raw.trim() === '' || raw.trim() === '*') return;
    let value = raw;
    if (value.length > MAX_VALUE) {
      notes.push(`${where}: value of ${value.length} chars cut to ${MAX_VALUE}`);
      value = value.slice(0, MAX_VALUE);
    }
    out.push({ kind: resolveKind(kind, value), value, where, method: 'structural' });
  };
  for (const spec of match.extract) {
    const side = spec.part === 'response' ? sides.response : sides.request;
    run(ex, match, spec, side, push);
  }
  return out;
}

type Push = (kind: ExtractKind, raw: string | null, where: string) => void;

// A WebSocket message travels on its upgrade request, which is recorded as its own exchange: what
// the head and the connection gave away is reported there once, not again on every message.
const HEAD_SOURCES: ReadonlySet<ExtractorSpec['from']> = new Set(['query', 'header', 'cookie', 'path', 'connection']);

function run(ex: Exchange, match: RuleMatch, spec: ExtractorSpec, side: Side, push: Push): void {
  if (ex.kind === 'websocket' && HEAD_SOURCES.has(spec.from)) return;
  const part = spec.part === 'response' ? 'response' : 'request';
  switch (spec.from) {
    case 'query': {
      const { query } = splitUrlPath(ex.request.path);
      for (const v of new URLSearchParams(query).getAll(spec.name)) push(spec.kind, v, `request.query.${spec.name}`);
      return;
    }
    case 'header': {
      const h = spec.name.toLowerCase();
      for (const v of headerValues(side.headers, h)) {
        push(spec.kind, (spec.kind === 'token' && bearerToken(v)) || v, `${part}.header.${h}`);
      }
      return;
    }
    case 'cookie': {
      const src = part === 'request' ? headerValues(side.headers, 'cookie') : headerValues(side.headers, 'set-cookie');
      for (const line of src) {
        const pairs = part === 'request' ? parseCookies(line) : parseCookies(line).slice(0, 1);
        for (const [k, v] of pairs) if (spec.name === '*' || k === spec.name) push(spec.kind, v, `${part}.cookie.${k}`);
      }
      return;
    }
    case 'json': {
      for (const d of side.docs()) {
        for (const pv of evalPath(d.json, spec.path)) push(spec.kind, scalar(pv.value), joinWhere(d.where, pv.path));
      }
      return;
    }
    case 'sdp': {
      for (const d of side.docs()) {
        for (const pv of evalPath(d.json, spec.path)) {
          if (typeof pv.value !== 'string') continue;
          for (const a of sdpAddresses(pv.value)) push('ip_address', a.address, `${joinWhere(d.where, pv.path)}#${a.source}`);
        }
      }
      return;
    }
    case 'form': {
      for (const [k, v] of side.body().form ?? []) if (k === spec.name) push(spec.kind, v, `${part}.form.${k}`);
      return;
    }
    case 'multipart': {
      for (const p of side.body().parts ?? []) {
        if (p.name === spec.name && p.text !== undefined) push(spec.kind, p.text, `${part}.multipart.${p.name}`);
      }
      return;
    }
    case 'path': {
      // `z/x/y`: several placeholders whose values form one datum (a map tile's coordinates).
      const names = spec.name.includes('/') ? spec.name.split('/') : [spec.name];
      const vs = names.map((n) => match.params[n]);
      if (vs.every((v) => v !== undefined)) push(spec.kind, percentDecodeLenient(vs.join('/')), `request.path.${spec.name}`);
      return;
    }
    case 'body': {
      const b = side.body();
      if (b.text !== undefined) push(spec.kind, b.text, side.bodyWhere);
      return;
    }
    case 'connection': {
      // The party learns the address of whoever connects to it. A DNS lookup reaches the resolver,
      // never the party, so DNS exchanges carry no such datum.
      if (ex.kind === 'dns') return;
      const a = ex.client.address.toLowerCase();
      push(spec.kind, a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a, 'connection.client');
      return;
    }
  }
}
