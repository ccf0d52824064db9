/**
 * Property tests (fast-check) for the parsers that had none: none may throw past its boundary.
 * Already covered elsewhere, not repeated: decodeBody over encodings x content types
 * (test/rules/decode.test.ts), JSON walk (json-path.test.ts), SDP (sdp.test.ts), STUN
 * (stun/parse.test.ts), DNS wire (dns/units.test.ts), extractFindings (extract.test.ts),
 * harToExchanges over arbitrary values (core/har.test.ts).
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigError, RulePackError } from '../../core/errors.js';
import { decodeBody } from '../../core/decode.js';
import type { Exchange, RawHeaders } from '../../core/exchange.js';
import { parseAllowClients } from '../../proxy/cidr.js';
import { formatAuthority, parseConnectTarget } from '../../proxy/connect-target.js';
import { buildResolveMap } from '../../proxy/resolve-spec.js';
import { targetOf } from '../../proxy/target.js';
import { percentDecodeLenient } from '../../rules/detect/text.js';
import { parseCookies, requestUnits, splitUrlPath } from '../../rules/extract-units.js';
import { matchIdentityLookup, matrixIdentityHash } from '../../rules/identity-hash.js';
import { buildKnownValueIndex, parseIdentitiesText, parseIdentity } from '../../rules/known-values.js';
import { parsePackText } from '../../rules/load.js';
import { parsePathPattern, splitPath } from '../../rules/path-pattern.js';

const RUNS = { numRuns: 400 };
const body = (bytes: Buffer) => ({ bytes, size: bytes.length, truncated: false });

function exchangeWith(path: string, headers: RawHeaders, bytes: Buffer): Exchange {
  return {
    id: 1,
    kind: 'http',
    listener: 'proxy',
    startedAt: 0,
    endedAt: 0,
    client: { address: '127.0.0.1', port: 1 },
    request: { method: 'POST', url: `https://a.test${path}`, scheme: 'https', host: 'a.test', port: 443, path, httpVersion: '1.1', headers, body: body(bytes) },
  } as unknown as Exchange;
}

/** Only these error types may leave the function; anything else is a crash. */
function only(fn: () => unknown, ...allowed: Array<new (...a: never[]) => Error>): void {
  try {
    fn();
  } catch (e) {
    if (!allowed.some((A) => e instanceof A)) throw e;
  }
}

describe('URL and query parsing used by extraction', () => {
  const pathish = fc.oneof(
    fc.string(),
    fc.webPath(),
    fc.tuple(fc.webPath(), fc.webQueryParameters(), fc.webFragments()).map(([p, q, f]) => `${p || '/'}?${q}#${f}`),
    fc.stringMatching(/^\/[%a-z0-9?&=#;+]{0,40}$/),
  );

  it('splitUrlPath, percentDecodeLenient and URLSearchParams never throw', () => {
    fc.assert(
      fc.property(pathish, (p) => {
        const { pathname, query } = splitUrlPath(p);
        expect(pathname).not.toMatch(/[?#]/);
        expect(query.includes('#')).toBe(false);
        percentDecodeLenient(p);
        for (const seg of pathname.split('/')) percentDecodeLenient(seg);
        [...new URLSearchParams(query)];
      }),
      RUNS,
    );
  });

  it('requestUnits over arbitrary paths, headers and cookies never throws', () => {
    const header = fc.tuple(fc.constantFrom('Cookie', 'Content-Type', 'Content-Encoding', 'Referer', 'X-Any', 'Authorization'), fc.string({ maxLength: 60 }));
    fc.assert(
      fc.property(pathish, fc.array(header, { maxLength: 6 }), fc.uint8Array({ maxLength: 200 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 }), { maxKeys: 3 }), (p, h, b, params) => {
        const r = requestUnits(exchangeWith(p, h, Buffer.from(b)), params);
        expect(Array.isArray(r.units)).toBe(true);
      }),
      RUNS,
    );
  });

  it('parseCookies never throws and keeps names without "="', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        for (const [k] of parseCookies(s)) expect(k.includes(';')).toBe(false);
      }),
      RUNS,
    );
  });

  it('rule path patterns: parsePathPattern and splitPath never throw', () => {
    fc.assert(
      fc.property(fc.string(), fc.oneof(fc.string(), fc.webPath()), (pattern, path) => {
        parsePathPattern(pattern);
        splitPath(path);
      }),
      RUNS,
    );
  });
});

describe('form bodies', () => {
  const ct: RawHeaders = [['Content-Type', 'application/x-www-form-urlencoded']];

  it('arbitrary bytes as a form never throw', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => void decodeBody(body(Buffer.from(b)), ct)), RUNS);
  });

  it('round trip: encoded pairs decode to the same pairs', () => {
    const pair = fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 20 }));
    fc.assert(
      fc.property(fc.array(pair, { minLength: 1, maxLength: 8 }), (pairs) => {
        const text = new URLSearchParams(pairs).toString();
        const d = decodeBody(body(Buffer.from(text)), ct);
        // A form whose text is not valid UTF-8 text may be classified otherwise; a valid one is a form.
        if (d.type === 'form') expect(d.form!.map(([k, v]) => [k, v])).toEqual([...new URLSearchParams(text)]);
      }),
      RUNS,
    );
  });
});

describe('multipart bodies', () => {
  const boundary = fc.stringMatching(/^[A-Za-z0-9'()+_,.\/:=?-]{1,40}$/);

  it('arbitrary bytes with any boundary never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.oneof(boundary, fc.string({ maxLength: 80 })), (b, bd) => {
        decodeBody(body(Buffer.from(b)), [['Content-Type', `multipart/form-data; boundary=${bd}`]]);
        decodeBody(body(Buffer.from(b)), [['Content-Type', `multipart/form-data; boundary="${bd}"`]]);
        decodeBody(body(Buffer.from(b)), [['Content-Type', 'multipart/form-data']]);
      }),
      RUNS,
    );
  });

  it('round trip: generated text parts come back with their names and texts', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/);
    const text = fc.stringMatching(/^[ -~]{0,40}$/);
    fc.assert(
      fc.property(boundary, fc.uniqueArray(fc.tuple(name, text), { minLength: 1, maxLength: 5, selector: ([n]) => n }), (bd, parts) => {
        fc.pre(parts.every(([, t]) => !t.includes(bd)));
        const raw = parts.map(([n, t]) => `--${bd}\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${t}\r\n`).join('') + `--${bd}--\r\n`;
        const d = decodeBody(body(Buffer.from(raw)), [['Content-Type', `multipart/form-data; boundary="${bd}"`]]);
        expect(d.type).toBe('multipart');
        expect(d.parts!.map((p) => [p.name, p.text])).toEqual(parts);
      }),
      RUNS,
    );
  });
});

describe('identity hash matcher', () => {
  const email = fc.tuple(fc.stringMatching(/^[a-z0-9._+-]{1,16}$/), fc.stringMatching(/^[a-z0-9-]{1,12}\.[a-z]{2,6}$/)).map(([l, d]) => `${l}@${d}`);

  it('hash(contact) placed anywhere in a lookup body is found at its index', () => {
    fc.assert(
      fc.property(email, fc.string({ minLength: 1, maxLength: 30 }), fc.array(fc.string({ maxLength: 50 }), { maxLength: 20 }), fc.nat(), (addr, pepper, noise, at) => {
        const index = buildKnownValueIndex([parseIdentity(`email=${addr}`)]);
        const addresses = [...noise];
        const i = at % (addresses.length + 1);
        addresses.splice(i, 0, matrixIdentityHash(addr, 'email', pepper));
        const hits = matchIdentityLookup({ addresses, pepper, algorithm: 'sha256' }, index);
        expect(hits.map((h) => h.index)).toContain(i);
        expect(hits.every((h) => h.identity.value === addr)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('never throws on arbitrary bodies', () => {
    const index = buildKnownValueIndex([parseIdentity('email=alice@example.org'), parseIdentity('phone=+447700900123')]);
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ addresses: fc.anything(), pepper: fc.anything(), algorithm: fc.anything() })), (b) => {
        expect(Array.isArray(matchIdentityLookup(b, index))).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('proxy input parsers', () => {
  it('parseConnectTarget never throws; what it accepts is a safe host and a real port', () => {
    const target = fc.oneof(
      fc.string({ maxLength: 320 }),
      fc.tuple(fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6().map((v) => `[${v}]`), fc.string({ maxLength: 20 })), fc.oneof(fc.integer({ min: -5, max: 70000 }).map(String), fc.string({ maxLength: 6 }))).map(([h, p]) => `${h}:${p}`),
    );
    fc.assert(
      fc.property(target, (raw) => {
        const r = parseConnectTarget(raw);
        if (!r.ok) return;
        const { host, port } = r.target;
        expect(port).toBeGreaterThanOrEqual(1);
        expect(port).toBeLessThanOrEqual(65535);
        expect(host).not.toMatch(/[/\\\0\s@]/);
        expect(host.split('.')).not.toContain('..');
        expect(host).not.toMatch(/^\.|\.\./);
        // Round trip through the formatter.
        const again = parseConnectTarget(formatAuthority(host, port));
        expect(again.ok && again.target.host === host && again.target.port === port).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('targetOf (request line + Host) never throws', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.webPath()), fc.option(fc.string({ maxLength: 60 }), { nil: undefined }), fc.boolean(), (url, host, ssl) => {
        const tunnel = ssl ? { host: 'a.test', port: 443, client: { address: '127.0.0.1', port: 1 }, requests: 0 } : undefined;
        const r = targetOf(url, host, tunnel, ssl);
        if (r.ok) expect(r.target.port).toBeGreaterThan(0);
        else expect(r.status).toBeGreaterThanOrEqual(400);
      }),
      RUNS,
    );
  });

  it('--resolve and --allow-client parsers throw ConfigError only', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ maxLength: 40 }), fc.tuple(fc.domain(), fc.ipV4(), fc.integer({ min: -1, max: 70000 })).map(([h, i, p]) => `${h}=${i}:${p}`)), { maxLength: 3 }), (specs) => {
        only(() => buildResolveMap(specs), ConfigError);
        only(() => parseAllowClients(specs), ConfigError);
      }),
      RUNS,
    );
  });

  it('--identity and --identities parsers throw ConfigError only', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        only(() => parseIdentity(s), ConfigError);
        only(() => parseIdentitiesText(s, 'ids.txt'), ConfigError);
      }),
      RUNS,
    );
  });
});

describe('rule-pack loader on arbitrary YAML text', () => {
  it('arbitrary text: returns a pack or throws RulePackError, never anything else', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (text) => only(() => parsePackText(text, 'fuzz.yaml'), RulePackError)), { numRuns: 1000 });
  });

  it('arbitrary YAML documents (any JSON value, and pack-shaped ones)', () => {
    const packish = fc.record(
      {
        pack: fc.oneof(fc.string(), fc.jsonValue()),
        version: fc.oneof(fc.integer(), fc.jsonValue()),
        description: fc.jsonValue(),
        defaults: fc.jsonValue(),
        rules: fc.array(fc.dictionary(fc.constantFrom('id', 'host', 'path', 'method', 'party', 'category', 'why', 'extract', 'action', 'severity', 'when', 'remediation'), fc.jsonValue(), { maxKeys: 8 }), { maxLength: 3 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), packish), (v) => {
        only(() => parsePackText(stringify(v), 'fuzz.yaml'), RulePackError);
      }),
      { numRuns: 500 },
    );
  });

  it('hostile YAML: alias bombs, deep nesting, tags, huge scalars', () => {
    const alias = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n');
    for (const text of [alias, `${'['.repeat(5000)}${']'.repeat(5000)}`, '!!js/function "x"', `pack: ${'x'.repeat(1_000_000)}`, 'pack: *nope', '---\n---\n---', '\uFEFFpack: a\0']) {
      const t0 = Date.now();
      only(() => parsePackText(text, 'hostile.yaml'), RulePackError);
      expect(Date.now() - t0).toBeLessThan(5000);
    }
  });
});
