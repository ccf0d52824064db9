/**
 * HAR 1.2 both ways. `toHar` writes leakwatch's exchanges (findings in `_leaks`, the verdict in
 * `_leakwatch`); `harToExchanges` reads HAR from browsers (Chrome/Firefox), mitmproxy, Charles and
 * leakwatch into core Exchange records for `leakwatch analyze`. The reader is lenient (lists.ts
 * style): broken or non-HTTP entries are reported in `errors` and skipped, entries that never
 * reached a network (data:, blob:) are listed in `skipped`; it never throws.
 * Bodies that are not valid UTF-8 are written base64 with `encoding: "base64"` (content, and the
 * same field on postData, which HAR 1.2 leaves out but readers honour).
 */
import { isUtf8 } from 'node:buffer';
import type { Entry, Har, Header } from 'har-format';
import { outcomeOf, type Audit } from './audit.js';
import { ERR } from './errors.js';
import { headerValue, type BodyCapture, type Exchange, type ExchangeKind, type RawHeaders, type RequestPart } from './exchange.js';

export interface HarInput {
  readonly exchange: Exchange;
  readonly audit?: Audit | undefined;
  readonly session?: string | null;
}

type Json = Record<string, unknown>;
const headers = (h: RawHeaders): Header[] => h.map(([name, value]) => ({ name, value }));
const encodeBody = (b: Buffer): { text: string; encoding?: 'base64' } =>
  isUtf8(b) ? { text: b.toString('utf8') } : { text: b.toString('base64'), encoding: 'base64' };
const mime = (h: RawHeaders): string => headerValue(h, 'content-type') ?? 'application/octet-stream';

function query(url: string): Array<{ name: string; value: string }> {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

function entry({ exchange: ex, audit, session }: HarInput): Entry {
  const req = ex.request;
  const res = ex.response;
  const time = Math.max(0, ex.endedAt - ex.startedAt);
  const c = audit?.classification ?? null;
  const outcome = outcomeOf(ex.decision, audit);
  const wsData = ex.websocket ? encodeBody(ex.websocket.data.bytes) : null;
  const e: Json = {
    startedDateTime: new Date(ex.startedAt).toISOString(),
    time,
    request: {
      method: req.method, url: req.url, httpVersion: `HTTP/${req.httpVersion}`, cookies: [], headers: headers(req.headers),
      queryString: query(req.url), headersSize: -1, bodySize: req.body.size,
      ...(req.body.bytes.length > 0 ? { postData: { mimeType: mime(req.headers), ...encodeBody(req.body.bytes) } } : {}),
    },
    response: res
      ? {
          status: res.status, statusText: res.statusMessage, httpVersion: `HTTP/${req.httpVersion}`, cookies: [],
          headers: headers(res.headers),
          content: { size: res.body.size, mimeType: mime(res.headers), ...(res.body.bytes.length ? encodeBody(res.body.bytes) : {}) },
          redirectURL: headerValue(res.headers, 'location') ?? '', headersSize: -1, bodySize: res.body.size,
        }
      : { status: 0, statusText: '', httpVersion: '', cookies: [], headers: [], content: { size: 0, mimeType: 'x-unknown' },
          redirectURL: '', headersSize: -1, bodySize: -1 },
    cache: {},
    timings: { send: 0, wait: time, receive: 0 },
    _leakwatch: { id: ex.id, type: ex.kind, listener: ex.listener, rule: outcome.rule, category: c?.category ?? null,
      party: c?.party ?? null, severity: audit?.severity ?? 'none', verdict: outcome.verdict,
      ...(session !== undefined ? { session } : {}) },
    _leaks: (audit?.findings ?? []).map((f) => ({ kind: f.kind, value: f.value, where: f.where, method: f.method })),
    ...(ex.error ? { _error: { code: ex.error.code, message: ex.error.message } } : {}),
    ...(ex.websocket && wsData
      ? { _webSocketMessages: [{ type: ex.websocket.direction, time: ex.startedAt / 1000, opcode: ex.websocket.binary ? 2 : 1,
          data: wsData.text, ...(wsData.encoding ? { encoding: wsData.encoding } : {}), _connectionId: ex.websocket.connectionId }] }
      : {}),
  };
  return e as unknown as Entry;
}

export function toHar(entries: Iterable<HarInput>, creator = { name: 'leakwatch', version: '0.1.0' }): Har {
  return { log: { version: '1.2', creator, entries: [...entries].map(entry) } };
}

/** One HAR entry, for exporters that stream entries into a hand-written envelope. */
export const toHarEntry = entry;

// ---- reading -------------------------------------------------------------------------------

const obj = (v: unknown): Json | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null);
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);
const num = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);

function readHeaders(v: unknown): RawHeaders {
  if (!Array.isArray(v)) return [];
  const out: Array<readonly [string, string]> = [];
  for (const h of v) {
    const o = obj(h);
    const name = str(o?.['name']);
    // HTTP/2 pseudo-headers (Chrome) are not headers a rule could see on HTTP/1.
    if (o && name && !name.startsWith(':')) out.push([name, str(o['value'], String(o['value'] ?? ''))]);
  }
  return out;
}

function capture(text: unknown, encoding: unknown): BodyCapture {
  if (typeof text !== 'string' || text === '') return { bytes: Buffer.alloc(0), size: 0, truncated: false };
  const bytes = encoding === 'base64' ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  return { bytes, size: bytes.length, truncated: false };
}

function requestBody(post: Json | null): BodyCapture {
  if (!post) return capture('', undefined);
  if (typeof post['text'] === 'string') return capture(post['text'], post['encoding'] ?? post['_encoding']);
  if (!Array.isArray(post['params'])) return capture('', undefined);
  const form = new URLSearchParams();
  for (const p of post['params']) {
    const o = obj(p);
    if (o) form.append(str(o['name']), str(o['value']));
  }
  return capture(form.toString(), undefined);
}

const SCHEMES = new Set(['http', 'https', 'ws', 'wss']);
const LOCAL_SCHEME = /^(?:data|blob):/i;
const TYPES = new Set<ExchangeKind>(['http', 'websocket', 'tls-failure', 'dns', 'stun']);
const version = (v: unknown): string => str(v).replace(/^HTTP\//i, '').replace(/^h2$/i, '2').replace(/^h3$/i, '3') || '1.1';

function readRequest(e: Json, fromLeakwatch: boolean): RequestPart {
  const r = obj(e['request']);
  if (!r) throw new Error('no request');
  const url = str(r['url']);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`not an absolute URL: ${url.slice(0, 80)}`);
  }
  const scheme = u.protocol.replace(/:$/, '');
  if (!SCHEMES.has(scheme) && !(fromLeakwatch && (scheme === 'dns' || scheme === 'stun'))) {
    throw new Error(`not an HTTP request (${scheme}:)`);
  }
  const dflt = scheme === 'https' || scheme === 'wss' ? 443 : 80;
  return {
    method: str(r['method'], 'GET').toUpperCase() || 'GET',
    url, scheme: scheme as RequestPart['scheme'], host: u.hostname.replace(/^\[|\]$/g, '').toLowerCase(),
    port: u.port ? Number(u.port) : dflt, path: `${u.pathname || '/'}${u.search}`,
    httpVersion: version(r['httpVersion']), headers: readHeaders(r['headers']), body: requestBody(obj(r['postData'])),
  };
}

function readEntry(e: Json, index: number, push: (ex: Omit<Exchange, 'id'>) => void): void {
  const lw = obj(e['_leakwatch']);
  const request = readRequest(e, lw !== null);
  const startedAt = Date.parse(str(e['startedDateTime'])) || 0;
  const endedAt = startedAt + Math.max(0, num(e['time']));
  const r = obj(e['response']);
  const status = num(r?.['status']);
  const content = obj(r?.['content']);
  const response = r && status > 0
    ? { status, statusMessage: str(r['statusText']), headers: readHeaders(r['headers']), body: capture(content?.['text'], content?.['encoding']) }
    : undefined;
  const errIn = e['_error'];
  const errObj = obj(errIn);
  const error = errObj ? { code: str(errObj['code'], ERR.UPSTREAM_PROTOCOL), message: str(errObj['message']) }
    : typeof errIn === 'string' && errIn ? { code: ERR.UPSTREAM_PROTOCOL, message: errIn } : undefined;
  const lwType = str(lw?.['type']) as ExchangeKind;
  const base = {
    kind: TYPES.has(lwType) ? lwType : ('http' as ExchangeKind), listener: str(lw?.['listener'], 'har'), startedAt, endedAt,
    client: { address: '', port: 0 }, request,
    ...(response ? { response } : {}), ...(error ? { error } : {}),
    meta: { harIndex: index, ...(lw && typeof lw['id'] === 'number' ? { leakwatchId: lw['id'] } : {}) },
  };
  const messages = Array.isArray(e['_webSocketMessages']) ? e['_webSocketMessages'] : [];
  if (messages.length === 0) return push(base);
  messages.forEach((m, j) => {
    const o = obj(m);
    if (!o) return;
    const binary = num(o['opcode'], 1) === 2;
    // Chrome writes binary frames base64 without saying so; leakwatch says so.
    const data = capture(o['data'], o['encoding'] ?? (binary ? 'base64' : undefined));
    const t = o['time'] !== undefined ? Math.round(num(o['time']) * 1000) : startedAt;
    push({ ...base, kind: 'websocket', startedAt: t, endedAt: t, meta: { ...base.meta, harMessage: j },
      websocket: { connectionId: num(o['_connectionId'], index), direction: str(o['type']) === 'receive' ? 'receive' : 'send', binary, data } });
  });
}

/**
 * Exchanges from a parsed HAR. `id` is the 0-based position in the returned list; `meta.harIndex`
 * is the entry's position in `log.entries` (one entry yields one exchange per WebSocket message).
 */
export function harToExchanges(har: unknown): { exchanges: Exchange[]; errors: string[]; skipped: number[] } {
  const exchanges: Exchange[] = [];
  const errors: string[] = [];
  const skipped: number[] = [];
  const entries = obj(obj(har)?.['log'])?.['entries'];
  if (!Array.isArray(entries)) return { exchanges, errors: ['not a HAR file: log.entries is missing'], skipped };
  entries.forEach((raw, i) => {
    const e = obj(raw);
    if (!e) return void errors.push(`entry ${i}: not an object`);
    // Browsers record data: and blob: URLs too: nothing left the machine.
    if (LOCAL_SCHEME.test(str(obj(e['request'])?.['url']))) return void skipped.push(i);
    try {
      readEntry(e, i, (ex) => void exchanges.push({ ...ex, id: exchanges.length }));
    } catch (err: unknown) {
      errors.push(`entry ${i}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  return { exchanges, errors, skipped };
}
