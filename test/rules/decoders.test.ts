/**
 * The decoding stage (core/decoders/ and what core/decode.ts and rules/extract-units.ts do with it):
 * table-driven cases, a positive and a near miss per decoder, bad input, caps, and fast-check
 * properties (every decoder is total).
 */
import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DECODE_LIMIT, decodeBody } from '../../core/decode.js';
import { sniffCompression } from '../../core/decoders/compression.js';
import { MAX_NDJSON_LINES, parseNdjson } from '../../core/decoders/ndjson.js';
import { MIN_RUN, printableRuns } from '../../core/decoders/printable.js';
import { base32Decode, decodeOnce, MAX_LAYERS, type Budget } from '../../core/decoders/value.js';
import { extractFindings } from '../../rules/extract.js';
import { buildKnownValueIndex } from '../../rules/known-values.js';
import { capture, ex, match } from '../fixtures/bodies/exchange.js';
import { zstdFrameRaw, zstdRleBomb } from '../fixtures/bodies/zstd.js';

const budget = (): Budget => ({ bytes: DECODE_LIMIT });
const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64');
const b64u = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const jwt = (payload: unknown, header: unknown = { alg: 'HS256', typ: 'JWT' }): string => `${b64u(header)}.${b64u(payload)}.c2ln`;
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function base32(buf: Buffer): string {
  let bits = 0;
  let v = 0;
  let o = '';
  for (const x of buf) {
    v = ((v << 8) | x) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      o += B32[(v >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return bits > 0 ? o + B32[(v << (5 - bits)) & 31] : o;
}
const event = { event: '$pageview', properties: { distinct_id: 'a224a75aecbae96b1447f39182a469c' } };

describe('sniffCompression', () => {
  it.each([
    ['gzip', zlib.gzipSync('x'), 'gzip'],
    ['zlib', zlib.deflateSync('x'), 'deflate'],
    ['zlib best', zlib.deflateSync('x', { level: 9 }), 'deflate'],
    ['zstd', zstdFrameRaw(Buffer.from('x')), 'zstd'],
    ['json text', Buffer.from('{"a":1}'), null],
    ['gzip magic, other method', Buffer.from([0x1f, 0x8b, 0x07, 0]), null],
    ['text starting x^', Buffer.from('x^2 + y'), null],
    ['one byte', Buffer.from([0x1f]), null],
  ] as const)('%s', (_n, bytes, want) => {
    expect(sniffCompression(bytes)).toBe(want);
  });
});

describe('decodeOnce', () => {
  it.each([
    ['base64 JSON (posthog-js data=)', b64(event), '|base64|json'],
    ['base64url JSON', b64u(event), '|base64|json'],
    ['base64 without padding', b64(event).replace(/=+$/, ''), '|base64|json'],
    ['base64 whose + became a space in a form', b64({ q: '>>>?' }).replace(/\+/g, ' '), '|base64|json'],
    ['base64 of gzip JSON', zlib.gzipSync(JSON.stringify(event)).toString('base64'), '|base64|gzip|json'],
    ['base64 of zlib JSON', zlib.deflateSync(JSON.stringify(event)).toString('base64'), '|base64|deflate|json'],
    ['base64 of text', b64('Joined !kKQxgXZuGNaBIzUOeO:example.org'), '|base64'],
    ['JWT', jwt({ sub: '@alice:example.org:QWERTYUIOP' }), '|jwt'],
    ['JSON text in a field', JSON.stringify({ sender: '@bob:example.net' }), '|json'],
    ['base32 room id (Jitsi conference)', base32(Buffer.from('!kKQxgXZuGNaBIzUOeO:example.org')), '|base32'],
  ])('%s', (_n, s, chain) => {
    expect(decodeOnce(s, budget())?.chain).toBe(chain);
  });

  it.each([
    ['hex id', 'a224a75aecbae96b1447f39182a469c0'],
    ['short word', 'Authorizat'],
    ['base64 of random bytes', Buffer.from([0x9f, 0x11, 0xee, 0x02, 0x81, 0x55, 0xaa, 0x33, 0x10, 0xfe, 0x77, 0x88, 0x01]).toString('base64')],
    ['random Jitsi name (base32 alphabet)', 'JitsiXabcdefghijklmnopqrstuvw'],
    ['base32 of random bytes', base32(Buffer.from([0x9f, 0x11, 0xee, 0x02, 0x81, 0x55, 0xaa, 0x33, 0x10, 0xfe, 0x77, 0x88]))],
    ['JWT with garbage segments', 'eyJhbGciOi.!!!.zzz'],
    ['JWT-shaped, header without alg', `${b64u({ typ: 'JWT' })}.${b64u({ sub: 'x' })}.sig`],
    ['JWT whose payload is not JSON', `${b64u({ alg: 'none' })}.bm90IGpzb24.`],
    ['invalid base64', '@@@@not*base64@@@@'],
    ['broken JSON text', '{"a": 1, "b": '],
    ['a dotted hostname', 'matrix-client.matrix.org'],
    ['truncated gzip in base64', zlib.gzipSync(JSON.stringify(event)).subarray(0, 12).toString('base64')],
  ])('near miss: %s', (_n, s) => {
    expect(decodeOnce(s, budget())).toBeNull();
  });

  it('decodes the JWT payload and the base32 room id', () => {
    expect(decodeOnce(jwt({ sub: '@alice:example.org:QWERTYUIOP' }), budget())?.json).toEqual({ sub: '@alice:example.org:QWERTYUIOP' });
    expect(decodeOnce(base32(Buffer.from('!kKQxgXZuGNaBIzUOeO:example.org')), budget())?.text).toBe('!kKQxgXZuGNaBIzUOeO:example.org');
  });

  it('charges its output to the budget and stops when it is spent', () => {
    const b = { bytes: 40 };
    expect(decodeOnce(b64(event), b)).toBeNull();
    const big = { bytes: 10_000 };
    decodeOnce(b64(event), big);
    expect(big.bytes).toBe(10_000 - JSON.stringify(event).length);
  });

  it('keeps a gzip bomb in base64 within the budget', () => {
    const bomb = zlib.gzipSync(Buffer.concat([Buffer.from('{"a":"'), Buffer.alloc(32 << 20, 0x61), Buffer.from('"}')])).toString('base64');
    const b: Budget = { bytes: 1 << 20 };
    const t = Date.now();
    const layer = decodeOnce(bomb, b);
    // What fits is kept (a cut JSON is text); nothing beyond the budget is ever inflated.
    expect(layer?.text?.length ?? 0).toBeLessThanOrEqual(1 << 20);
    expect(b.bytes).toBeGreaterThanOrEqual(0);
    expect(b.exhausted).toBe(true);
    expect(Date.now() - t).toBeLessThan(5000);
  });

  it('survives deeply nested JSON in a base64 field', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect(() => decodeOnce(Buffer.from(deep).toString('base64'), budget())).not.toThrow();
  });

  it('is total on any string (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const l = decodeOnce(s, budget());
        expect(l === null || typeof l.chain === 'string').toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
  it('is total on base64, JWT and base32 shapes of arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 60 }), (a, b) => {
        const A = Buffer.from(a);
        const B = Buffer.from(b);
        for (const s of [A.toString('base64'), A.toString('base64url'), `${B.toString('base64url')}.${A.toString('base64url')}.x`, base32(A), `eyJ${A.toString('base64url')}`]) {
          decodeOnce(s, budget());
        }
      }),
      { numRuns: 500 },
    );
  });
  it('round-trips JSON through base64, gzip+base64 and JWT (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 20 }), { minKeys: 1, maxKeys: 5 }), (obj) => {
        expect(decodeOnce(b64(obj), budget())?.json).toEqual(obj);
        expect(decodeOnce(zlib.gzipSync(JSON.stringify(obj)).toString('base64'), budget())?.json).toEqual(obj);
        expect(decodeOnce(jwt(obj), budget())?.json).toEqual(obj);
      }),
      { numRuns: 300 },
    );
  });
});

describe('base32Decode', () => {
  it('inverts RFC 4648 base32, padded or not, either case (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (a) => {
        const s = base32(Buffer.from(a));
        expect([...base32Decode(s)!]).toEqual([...a]);
        expect([...base32Decode(s.toLowerCase())!]).toEqual([...a]);
        expect([...base32Decode(`${s}${'='.repeat((8 - (s.length % 8)) % 8)}`)!]).toEqual([...a]);
      }),
    );
  });
  it('rejects characters outside the alphabet', () => {
    expect(base32Decode('ABC1')).toBeNull();
  });
});

describe('parseNdjson', () => {
  it('parses a Sentry envelope line by line, skipping a binary attachment line', () => {
    const r = parseNdjson('{"event_id":"x"}\n{"type":"attachment"}\n\u0001\u0002binary\n{"type":"event"}\n{"user":{"id":"@a:example.org"}}\n');
    expect(r?.docs.map((d) => d.line)).toEqual([0, 1, 3, 4]);
  });
  it.each([
    ['one JSON document', '{"a":1}'],
    ['prose after a JSON line', '{"a":1}\nnot json\n'],
    ['a first line that is not JSON', 'hello\n{"a":1}\n{"b":2}'],
    ['an array first', '[1]\n[2]'],
  ])('near miss: %s', (_n, text) => {
    expect(parseNdjson(text)).toBeNull();
  });
  it('stops at MAX_NDJSON_LINES of 100k lines, with a note', () => {
    const r = parseNdjson('{"a":1}\n'.repeat(100_000));
    expect(r!.docs).toHaveLength(MAX_NDJSON_LINES);
    expect(r!.notes[0]).toMatch(/more than 10000 lines/);
  });
  it('is total (property)', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.json(), fc.string()), { maxLength: 20 }), (lines) => void parseNdjson(lines.join('\n'))), { numRuns: 500 });
  });
});

describe('printableRuns', () => {
  it('reads an ICE candidate out of a protobuf frame', () => {
    const cand = 'candidate:842163049 1 udp 1677729535 203.0.113.7 54321 typ srflx raddr 0.0.0.0 rport 0';
    const frame = Buffer.concat([Buffer.from([0x32, 0x80, 0x0a, cand.length]), Buffer.from(cand), Buffer.from([0x12, 0x01, 0x30])]);
    const runs = printableRuns(frame);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.endsWith(cand)).toBe(true);
  });
  it('near miss: field tags and short strings are no runs', () => {
    expect(printableRuns(Buffer.from([0x08, 0x01, 0x12, 0x04, 0x0a, 0x02, 0x10, 0x05, 0x1a, 0x03, 0x61, 0x62, 0x63]))).toEqual([]);
  });
  it('yields printable runs of at least MIN_RUN characters only (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), (a) => {
        for (const r of printableRuns(a)) {
          expect(r.length).toBeGreaterThanOrEqual(MIN_RUN);
          expect(r).toMatch(/^[\x20-\x7e\t]+$/);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('decodeBody: compression without a header, NDJSON, binary, multipart', () => {
  it('gunzips a text/plain body with no Content-Encoding (posthog-js gzip-js)', () => {
    const d = decodeBody(capture(zlib.gzipSync(JSON.stringify([event]))), [['Content-Type', 'text/plain']]);
    expect(d.type).toBe('json');
    expect(d.encodings).toEqual(['gzip']);
    expect(d.notes[0]).toMatch(/gzip by magic bytes/);
  });
  it('keeps what a truncated sniffed gzip holds, with a note', () => {
    const gz = zlib.gzipSync(JSON.stringify({ text: 'a'.repeat(5000) }));
    const d = decodeBody({ bytes: gz.subarray(0, gz.length - 10), size: gz.length, truncated: true }, [['Content-Type', 'text/plain']]);
    expect(d.encodings).toEqual(['gzip']);
    expect(d.text?.startsWith('{"text":"aaaa')).toBe(true);
  });
  it('stops a sniffed zstd bomb at the cap', () => {
    const d = decodeBody(capture(zstdRleBomb(200)), []);
    expect(d.bytes.length).toBeLessThanOrEqual(DECODE_LIMIT);
    expect(d.truncated).toBe(true);
  });
  it('near miss: a text body that merely starts with x is not zlib', () => {
    expect(decodeBody(capture('x^2 is a square'), [['Content-Type', 'text/plain']]).encodings).toEqual([]);
  });
  it('splits a Sentry envelope into lines', () => {
    const d = decodeBody(capture('{"event_id":"x"}\n{"type":"event"}\n{"user":{"id":"@a:example.org"}}\n'), [['Content-Type', 'text/plain;charset=UTF-8']]);
    expect(d.type).toBe('ndjson');
    expect(d.lines).toHaveLength(3);
  });
  it('keeps the printable runs of a binary body', () => {
    const d = decodeBody(capture(Buffer.from([0xff, 0x00, ...Buffer.from('@alice:example.org'), 0x01])), []);
    expect(d.type).toBe('binary');
    expect(d.runs).toEqual(['@alice:example.org']);
  });
  it('multipart without a boundary: a note, and the body as text', () => {
    const d = decodeBody(capture('--x\r\n\r\nuser_id\r\n--x--'), [['Content-Type', 'multipart/form-data']]);
    expect(d.notes).toContain('multipart body without boundary');
    expect(d.type).toBe('text');
  });
  it('multipart with 10k parts stops at the part cap with a note', () => {
    const body = `${'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n'.repeat(10_000)}--b--\r\n`;
    const d = decodeBody(capture(body), [['Content-Type', 'multipart/form-data; boundary=b']]);
    expect(d.parts!.length).toBe(1000);
    expect(d.notes.some((n) => /more than 1000 parts/.test(n))).toBe(true);
  });
  it('decodes a zlib or zstd file part by its magic bytes', () => {
    for (const data of [zlib.deflateSync('@alice:example.org logs'), zstdFrameRaw(Buffer.from('@alice:example.org logs'))]) {
      const body = Buffer.concat([Buffer.from('--b\r\nContent-Disposition: form-data; name="log"; filename="l.gz"\r\n\r\n'), data, Buffer.from('\r\n--b--\r\n')]);
      const d = decodeBody(capture(body), [['Content-Type', 'multipart/form-data; boundary=b']]);
      expect(d.parts![0]!.text).toBe('@alice:example.org logs');
    }
  });
});

describe('extraction through decoded layers', () => {
  const ctx = { firstParty: false, known: buildKnownValueIndex([]) };
  const wheres = (e: ReturnType<typeof ex>) => extractFindings(e, null, ctx).findings.map((f) => `${f.kind} ${f.value} @${f.where}`);

  it('names the decoding chain in where', () => {
    const e = ex('https://t.example.net/e/', {
      headers: [['Content-Type', 'application/x-www-form-urlencoded']],
      body: `data=${encodeURIComponent(b64({ properties: { user: '@alice:example.org' } }))}`,
    });
    expect(wheres(e)).toContain('mxid @alice:example.org @request.form.data|base64|json.properties.user');
  });
  it('reads JWT claims: LiveKit sub is mxid and device', () => {
    const e = ex(`https://sfu.example.net/rtc?access_token=${jwt({ sub: '@alice:example.org:QWERTYUIOP' })}`);
    const w = wheres(e);
    expect(w).toContain('mxid @alice:example.org @request.query.access_token|jwt.sub');
    expect(w).toContain('device_id QWERTYUIOP @request.query.access_token|jwt.sub');
  });
  it('decodes a JWT in the Authorization header', () => {
    const e = ex('https://t.example.net/x', { headers: [['Authorization', `Bearer ${jwt({ context: { user: { name: 'Alice Liddell' } } })}`]] });
    expect(wheres(e)).toContain('display_name Alice Liddell @request.header.authorization|jwt.context.user.name');
  });
  it('near miss: the homeserver\'s own JWT sent to the homeserver says nothing new', () => {
    const e = ex('https://matrix.example.org/_matrix/client/v3/pushers/set', { headers: [['Authorization', `Bearer ${jwt({ sub: '@alice:example.org:QWERTYUIOP', name: 'Alice' })}`]] });
    const first = extractFindings(e, match([]), { firstParty: true, known: buildKnownValueIndex([]) }).findings;
    expect(first.filter((f) => f.where.startsWith('request.header.authorization'))).toEqual([]);
  });
  it(`stops after MAX_LAYERS (${MAX_LAYERS}) nested encodings`, () => {
    let v = JSON.stringify({ who: '@alice:example.org' });
    for (let i = 0; i < MAX_LAYERS + 1; i++) v = Buffer.from(v).toString('base64');
    const deep = wheres(ex(`https://t.example.net/x?d=${encodeURIComponent(v)}`));
    expect(deep.some((w) => w.startsWith('mxid'))).toBe(false);
    let ok = JSON.stringify({ who: '@alice:example.org' });
    for (let i = 0; i < MAX_LAYERS - 1; i++) ok = Buffer.from(ok).toString('base64');
    expect(wheres(ex(`https://t.example.net/x?d=${encodeURIComponent(ok)}`)).some((w) => w.startsWith('mxid @alice:example.org'))).toBe(true);
  });
  it('says in a note when the decoding budget left values encoded', () => {
    const big = Buffer.from(JSON.stringify({ pad: 'x'.repeat(6 << 20) })).toString('base64');
    const e = ex('https://t.example.net/x', { headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: `a=${big}&b=${big}&c=${big}` });
    const r = extractFindings(e, null, ctx);
    expect(r.notes.some((n) => /decoded values reached/.test(n))).toBe(true);
  });
  it('never throws on arbitrary encoded form fields (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string()), fc.constantFrom('b64', 'gz', 'jwt', 'raw'), (v, how) => {
        const s = how === 'b64' ? b64(v) : how === 'gz' ? zlib.gzipSync(v).toString('base64') : how === 'jwt' ? `${b64u({ alg: 'x' })}.${Buffer.from(v).toString('base64url')}.` : v;
        const e = ex('https://t.example.net/x', { headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: `data=${encodeURIComponent(s)}` });
        expect(Array.isArray(extractFindings(e, null, ctx).findings)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
