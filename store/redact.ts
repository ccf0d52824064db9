/**
 * Redaction (`--redact`): leaked values are personal data, so the store can keep a masked preview
 * (enough to recognise "my email", not enough to read it) plus a keyed hash. The key is per
 * install (`<data-dir>/redact.key`, 0600): the hash lets `purge --value V` find V again and lets
 * two captures be compared, while a copied database alone does not allow dictionary attacks.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { Exchange } from '../core/exchange.js';
import type { HoldRequest } from '../core/hold-queue.js';
import type { PipelineItem } from '../core/pipeline.js';

const KEY_BYTES = 32;

/** Read the install's redaction key, creating it (0600) on first use. */
export function loadOrCreateRedactKey(dataDir: string): Buffer {
  const file = join(dataDir, 'redact.key');
  try {
    // 'wx' fails if the file exists, so two processes starting at once cannot both create it.
    writeFileSync(file, randomBytes(KEY_BYTES), { flag: 'wx', mode: 0o600 });
    chmodSync(file, 0o600);
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = readFileSync(file);
  if (key.length !== KEY_BYTES) throw new ConfigError(`${file}: expected a ${KEY_BYTES}-byte key, found ${key.length} bytes`);
  return key;
}

export function keyedHash(key: Buffer, value: string): Buffer {
  return createHmac('sha256', key).update(value, 'utf8').digest();
}

const stars = (n: number): string => '*'.repeat(Math.max(3, n));

function maskEmail(v: string): string | null {
  const at = v.lastIndexOf('@');
  if (at <= 0) return null;
  const local = v.slice(0, at);
  const labels = v.slice(at + 1).split('.');
  const tld = labels.length > 1 ? labels.pop()! : '';
  const domain = labels.join('.');
  return `${local.slice(0, 2)}***@${domain.slice(0, 2)}***${tld ? '.' + tld : ''}`;
}

function maskPhone(v: string): string {
  if (v.length <= 6) return stars(v.length);
  return v.slice(0, 3) + '*'.repeat(v.length - 6) + v.slice(-3);
}

/** A preview that never contains the whole value: `al***@ex***.org`, `+44*******123`, `@al***.org`. */
export function maskValue(kind: string, v: string): string {
  if (kind === 'email') return maskEmail(v) ?? maskGeneric(v);
  if (kind === 'phone') return maskPhone(v);
  return maskGeneric(v);
}

function maskGeneric(v: string): string {
  if (v.length <= 4) return '***';
  if (v.length <= 10) return v.slice(0, 1) + '***';
  return v.slice(0, 3) + '***' + v.slice(-3);
}

// Characters with a meaning in a regular expression (the `u` flag refuses other escapes).
const reEscape = (s: string): string => s.replace(/[\^$\\.*+?()[\]{}|/]/g, '\\$&');

/** One character as itself, percent-encoded (once or twice, any hex case) or JSON-escaped. */
function charPattern(ch: string): string {
  const alts = [reEscape(ch)];
  const bytes = [...Buffer.from(ch, 'utf8')];
  alts.push(bytes.map((b) => `%(?:25)?${b.toString(16).padStart(2, '0')}`).join(''));
  const cp = ch.codePointAt(0)!;
  if (cp <= 0xffff) alts.push(`\\\\u${cp.toString(16).padStart(4, '0')}`);
  if (ch === ' ') alts.push('\\+');
  return `(?:${alts.join('|')})`;
}

// What may sit between two digits of a written phone number: spaces, dots, dashes, brackets,
// slashes, each possibly percent- or form-encoded.
const PHONE_GAP = '(?:[\\s.\\-()/\\u00a0]|\\+|%(?:25)?(?:20|2d|28|29|2f|2b|c2%(?:25)?a0)|\\\\u00a0){0,4}';
const PHONE_CHARS = /^[+\d\s().\-/\u00a0]+$/;

/** The digit sequences a phone value is written with: international, and national with a 0. */
function phoneDigitRuns(v: string): string[] {
  const digits = v.replace(/\D/g, '');
  const runs = [digits.replace(/^00/, '')];
  // The country code is 1–3 digits; any of those cut points may be the national form (over-
  // masking a few digits is the safe side), which is written with or without a trunk 0.
  for (let cc = 1; cc <= 3; cc++) if (digits.length - cc >= 6) runs.push(digits.slice(cc));
  return runs;
}

/** A regular expression source matching every spelling of `v` a URL, header or JSON can carry. */
export function spellingPattern(v: string): string {
  const digits = v.replace(/\D/g, '');
  if (PHONE_CHARS.test(v) && digits.length >= 7) {
    return phoneDigitRuns(v)
      .map((run) => `(?:(?:\\+|%(?:25)?2b|00)${PHONE_GAP})?(?:0${PHONE_GAP})?${[...run].join(PHONE_GAP)}`)
      .join('|');
  }
  return [...v].map(charPattern).join('');
}

/** The value reduced to what survives any spelling: lower-case letters and digits (digits for phones). */
function folded(v: string): string {
  const digits = v.replace(/\D/g, '');
  // The national number (the country code is at most 3 digits): what any writing of it keeps.
  if (PHONE_CHARS.test(v) && digits.length >= 7) return digits.slice(-Math.max(7, digits.replace(/^00/, '').length - 3));
  return v.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

function foldText(s: string): string {
  let t = s;
  // Undo up to three layers of percent-encoding; a malformed escape just stays as it is.
  for (let i = 0; i < 3 && /%[0-9a-f]{2}/i.test(t); i++) {
    t = t.replace(/(?:%[0-9a-f]{2})+/gi, (m) => {
      try {
        return decodeURIComponent(m);
      } catch {
        return m;
      }
    });
  }
  t = t.replace(/\\u([0-9a-f]{4})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return t.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

const DOUBT_MIN = 6;

/**
 * Replace every spelling of the given values that can appear in a URL, a header or JSON with a
 * placeholder: case-insensitive, percent-encoded in any case (once or twice), form-encoded,
 * JSON-escaped; a phone number by its digits in any grouping. When a field still holds a value's
 * letters and digits after that (an unforeseen spelling: `a.l.i.c.e`, a new escape), the whole
 * field is replaced: losing a field is better than storing the value. Values shorter than 3
 * characters are left alone: replacing them would shred unrelated text and hide nothing.
 */
export function createScrubber(values: readonly string[], placeholder = '[redacted]'): (s: string) => string {
  const usable = [...new Set(values)].filter((v) => v.length >= 3);
  if (usable.length === 0) return (s) => s;
  // Longest first, so a value that contains another is replaced whole.
  usable.sort((a, b) => b.length - a.length);
  const re = new RegExp(usable.map(spellingPattern).join('|'), 'giu');
  const folds = [...new Set(usable.map(folded))].filter((f) => f.length >= DOUBT_MIN);
  return (s) => {
    if (s === '') return s;
    const out = s.replace(re, placeholder);
    if (folds.length === 0) return out;
    const f = foldText(out);
    return folds.some((x) => f.includes(x)) ? placeholder : out;
  };
}

/**
 * Scrubbers by the set of values an exchange carries, each with the declared values added. A
 * scrubber compiles one regular expression, and the exchanges of one flow repeat the same values.
 */
export function createScrubberCache(declared: readonly string[]): (values: readonly string[]) => (s: string) => string {
  let cache = new Map<string, (s: string) => string>();
  const none = createScrubber(declared);
  return (values) => {
    if (values.length === 0) return none;
    const key = values.join('\u0000');
    let s = cache.get(key);
    if (!s) {
      if (cache.size >= 256) cache = new Map();
      s = createScrubber([...values, ...declared]);
      cache.set(key, s);
    }
    return s;
  };
}

/**
 * The texts to scrub from an exchange under `--redact`: each finding's value, and for a value
 * found inside an encoding (its `where` carries a chain such as `request.query.jwt|jwt.sub` or
 * `request.header.authorization|base64|json.user`), the raw field it was decoded from. The value
 * never appears in clear in such a field (base64, a JWT, compressed bytes), so only removing the
 * whole field keeps it out of the store.
 */
export function scrubTexts(req: FieldSource, findings: readonly { readonly value: string; readonly where: string }[]): string[] {
  const out = findings.map((f) => f.value);
  for (const f of findings) {
    const bar = f.where.indexOf('|');
    if (bar < 0 || !f.where.startsWith('request.')) continue;
    for (const raw of sourceField(req, f.where.slice(0, bar))) if (raw.length >= 3) out.push(raw);
  }
  return out;
}

/** What a request's fields are read from: the path with its query, and the raw headers. */
export interface FieldSource {
  readonly path: string;
  readonly headers: Exchange['request']['headers'];
}

/** The raw text(s) of a request field named by the head of a finding's `where`. */
function sourceField(req: FieldSource, field: string): string[] {
  const dot = field.indexOf('.', 'request.'.length);
  const part = dot < 0 ? field.slice('request.'.length) : field.slice('request.'.length, dot);
  const name = dot < 0 ? '' : field.slice(dot + 1).replace(/\[\d+\]$/, '');
  const q = req.path.indexOf('?');
  if (part === 'query' && q >= 0) {
    const out: string[] = [];
    for (const pair of req.path.slice(q + 1).split('&')) {
      const eq = pair.indexOf('=');
      const key = eq < 0 ? pair : pair.slice(0, eq);
      let k = key;
      try {
        k = decodeURIComponent(key.replace(/\+/g, ' '));
      } catch {
        // A malformed escape: compare the key as written.
      }
      if (k === name && eq >= 0) out.push(pair.slice(eq + 1));
    }
    return out;
  }
  if (part === 'header') return req.headers.filter(([k]) => k.toLowerCase() === name).map(([, v]) => v);
  if (part === 'cookie') {
    const out: string[] = [];
    for (const [k, v] of req.headers) {
      if (k.toLowerCase() !== 'cookie') continue;
      for (const c of v.split(';')) {
        const eq = c.indexOf('=');
        if (eq > 0 && c.slice(0, eq).trim() === name) out.push(c.slice(eq + 1).trim());
      }
    }
    return out;
  }
  if (part === 'path') {
    // A decoded path segment (e.g. a base32 conference name): every segment long enough to carry it.
    return req.path.slice(0, q < 0 ? undefined : q).split('/').filter((s) => s.length >= 8);
  }
  return [];
}

/** Every string inside a JSON-like value passed through `scrub` (keys too: header names can leak). */
export function scrubDeep<T>(v: T, scrub: (s: string) => string): T {
  if (typeof v === 'string') return scrub(v) as T;
  if (Array.isArray(v)) return v.map((x: unknown) => scrubDeep(x, scrub)) as T;
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[scrub(k)] = scrubDeep(x, scrub);
    return out as T;
  }
  return v;
}

const EMPTY_BODY = { bytes: Buffer.alloc(0), size: 0, truncated: false } as const;

/**
 * The redacted copy of an audited exchange for the live stream, so a viewer sees what the store
 * keeps: masked previews for findings, the values scrubbed from url, path, host, headers and
 * messages (with the declared identities), and no body bytes.
 */
export function createItemRedactor(declared: readonly string[]): (item: PipelineItem) => PipelineItem {
  const scrubberFor = createScrubberCache(declared);
  return ({ exchange: ex, audit }) => {
    const findings = audit?.findings ?? [];
    const scrub = scrubberFor(scrubTexts(ex.request, findings));
    const req = ex.request;
    const res = ex.response;
    const exchange: Exchange = {
      ...ex,
      request: { ...req, url: scrub(req.url), host: scrub(req.host), path: scrub(req.path), headers: scrubDeep(req.headers, scrub), body: { ...EMPTY_BODY, size: req.body.size } },
      ...(res ? { response: { ...res, statusMessage: scrub(res.statusMessage), headers: scrubDeep(res.headers, scrub), body: { ...EMPTY_BODY, size: res.body.size } } } : {}),
      ...(ex.websocket ? { websocket: { ...ex.websocket, data: { ...EMPTY_BODY, size: ex.websocket.data.size } } } : {}),
      ...(ex.error ? { error: { ...ex.error, message: scrub(ex.error.message) } } : {}),
      ...(ex.meta ? { meta: scrubDeep(ex.meta, scrub) } : {}),
      ...(ex.tls ? { tls: scrubDeep(ex.tls, scrub) } : {}),
    };
    if (!audit) return { exchange };
    return {
      exchange,
      audit: {
        ...audit,
        findings: findings.map((f) => ({ ...f, value: maskValue(f.kind, f.value), where: scrub(f.where) })),
        notes: scrubDeep(audit.notes, scrub),
      },
    };
  };
}

/**
 * The redacted copy of a held request for the dashboard (its list and the stream's `hold`
 * messages): masked findings, the values scrubbed from url and host, as for exchanges.
 */
export function createHoldRedactor(declared: readonly string[]): <H extends HoldRequest>(h: H) => H {
  const scrubberFor = createScrubberCache(declared);
  return (h) => {
    // A held request has no parsed path: the URL's path and query are what its query findings came from.
    const scheme = h.url.indexOf('//');
    const slash = scheme < 0 ? -1 : h.url.indexOf('/', scheme + 2);
    const scrub = scrubberFor(scrubTexts({ path: slash < 0 ? '/' : h.url.slice(slash), headers: [] }, h.findings));
    return {
      ...h, url: scrub(h.url), host: scrub(h.host),
      findings: h.findings.map((f) => ({ ...f, value: maskValue(f.kind, f.value), where: scrub(f.where) })),
    };
  };
}
