import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DECODE_LIMIT, decodeBody } from '../../core/decode.js';
import type { RawHeaders } from '../../core/exchange.js';
import { capture } from '../fixtures/bodies/exchange.js';
import { zstdFrameRaw } from '../fixtures/bodies/zstd.js';

const JSON_CT: RawHeaders = [['Content-Type', 'application/json']];
const doc = { addresses: ['a', 'b'], pepper: 'matrixrocks', text: 'héllo '.repeat(50) };
const raw = Buffer.from(JSON.stringify(doc));
const enc = (e: string): RawHeaders => [...JSON_CT, ['Content-Encoding', e]];

describe('decodeBody: content encodings', () => {
  it.each([
    ['gzip', zlib.gzipSync(raw)],
    ['x-gzip', zlib.gzipSync(raw)],
    ['deflate', zlib.deflateSync(raw)],
    ['deflate', zlib.deflateRawSync(raw)],
    ['br', zlib.brotliCompressSync(raw)],
    ['zstd', zstdFrameRaw(raw)],
    ['identity', raw],
    ['gzip, br', zlib.brotliCompressSync(zlib.gzipSync(raw))],
    ['deflate, gzip, br', zlib.brotliCompressSync(zlib.gzipSync(zlib.deflateSync(raw)))],
  ])('%s decodes to the JSON', (e, bytes) => {
    const d = decodeBody(capture(bytes), enc(e));
    expect(d.type).toBe('json');
    expect(d.json).toEqual(doc);
    expect(d.notes).toEqual([]);
    expect(d.truncated).toBe(false);
  });

  it('splits chains across repeated headers', () => {
    const d = decodeBody(capture(zlib.brotliCompressSync(zlib.gzipSync(raw))), [...enc('gzip'), ['content-encoding', 'br']]);
    expect(d.encodings).toEqual(['br', 'gzip']);
    expect(d.json).toEqual(doc);
  });

  it('leaves 6 chained encodings undecoded with a note', () => {
    let b: Buffer = raw;
    for (let i = 0; i < 6; i++) b = zlib.gzipSync(b);
    const d = decodeBody(capture(b), enc('gzip,gzip,gzip,gzip,gzip,gzip'));
    expect(d.encodings).toEqual([]);
    expect(d.type).toBe('binary');
    expect(d.notes.join()).toMatch(/6 content encodings/);
  });

  it.each([['gzip'], ['deflate'], ['br'], ['zstd']])('bad bytes under %s become a note', (e) => {
    const d = decodeBody(capture(Buffer.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6])), enc(e));
    expect(d.notes.length).toBeGreaterThan(0);
    expect(d.encodings).toEqual([]);
  });

  it('notes an unknown encoding and stops', () => {
    const d = decodeBody(capture(raw), enc('compress'));
    expect(d.notes.join()).toMatch(/unknown content-encoding/);
  });

  it('decodes a capture truncated by the proxy as far as it can', () => {
    const big = Buffer.from(JSON.stringify({ t: Array.from({ length: 4000 }, (_, i) => `n${i * 7919}`) }));
    const gz = zlib.gzipSync(big);
    const d = decodeBody(capture(gz, Math.floor(gz.length / 2)), enc('gzip'));
    expect(d.truncated).toBe(true);
    expect(d.bytes.length).toBeGreaterThan(1000);
    expect(big.subarray(0, d.bytes.length).equals(d.bytes)).toBe(true);
    expect(d.type).toBe('text'); // cut JSON stays searchable as text
  });

  it('stops a 1 GB gzip bomb at the cap, quickly', () => {
    const member = zlib.gzipSync(Buffer.alloc(1 << 20)); // 1 MiB of zeros, ~1 KB
    const bomb = Buffer.concat(Array.from({ length: 1024 }, () => member)); // 1 GiB decoded, ~1 MB
    const t0 = performance.now();
    const d = decodeBody(capture(bomb), [['Content-Encoding', 'gzip']]);
    const ms = performance.now() - t0;
    expect(d.truncated).toBe(true);
    expect(d.bytes.length).toBeLessThanOrEqual(DECODE_LIMIT);
    expect(d.bytes.length).toBeGreaterThan(DECODE_LIMIT / 4);
    expect(d.notes.join()).toMatch(/truncated/);
    expect(ms).toBeLessThan(2000);
  });

  it('stops a brotli bomb at the cap', () => {
    const q1 = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } };
    const d = decodeBody(capture(zlib.brotliCompressSync(Buffer.alloc(64 << 20), q1)), [['Content-Encoding', 'br']]);
    expect(d.truncated).toBe(true);
    expect(d.bytes.length).toBeLessThanOrEqual(DECODE_LIMIT);
  });
});

describe('decodeBody: content types', () => {
  it('empty body is the shared empty result', () => {
    expect(decodeBody(capture(undefined), JSON_CT).type).toBe('empty');
  });
  it.each([
    ['application/x-www-form-urlencoded', 'a=1&email=bob%40example.com', 'form'],
    ['text/plain', '{"sniffed":true}', 'json'],
    ['', '[1,2]', 'json'],
    ['text/plain', 'hello', 'text'],
    ['application/octet-stream', Buffer.from([0xff, 0xfe, 0x00, 0x81]), 'binary'],
    ['application/json', '{broken', 'text'],
    ['application/vnd.api+json', '{"a":1}', 'json'],
  ])('%s → %s', (ct, body, type) => {
    const d = decodeBody(capture(body), ct ? [['Content-Type', ct]] : []);
    expect(d.type).toBe(type);
  });
  it('form pairs are decoded', () => {
    const d = decodeBody(capture('a=1&email=bob%40example.com&x=a+b'), [['content-type', 'application/x-www-form-urlencoded']]);
    expect(d.form).toEqual([['a', '1'], ['email', 'bob@example.com'], ['x', 'a b']]);
  });
  it('multipart with a gzipped rageshake log part', () => {
    const log = 'room !kKQxgXZuGNaBIzUOeO:example.org by @alice:example.org';
    const b = '----geckoformboundary1';
    const body = Buffer.concat([
      Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="user_id"\r\n\r\n@alice:example.org\r\n`),
      Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="compressed-log"; filename="instance-0.log"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      zlib.gzipSync(log),
      Buffer.from(`\r\n--${b}\r\nContent-Disposition: form-data; name="img"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`),
      Buffer.from([0x89, 0x50, 0xff, 0xfe]),
      Buffer.from(`\r\n--${b}--\r\n`),
    ]);
    const d = decodeBody(capture(body), [['Content-Type', `multipart/form-data; boundary=${b}`]]);
    expect(d.type).toBe('multipart');
    expect(d.parts?.map((p) => [p.name, p.text])).toEqual([
      ['user_id', '@alice:example.org'],
      ['compressed-log', log],
      ['img', undefined],
    ]);
    expect(d.parts?.[1]?.filename).toBe('instance-0.log');
  });
});

describe('decodeBody never throws', () => {
  const encs = fc.constantFrom('gzip', 'deflate', 'br', 'zstd', 'identity', 'gzip, br', 'bogus', '');
  const cts = fc.constantFrom('application/json', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'text/plain', '');
  it('on arbitrary bytes and headers', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), encs, cts, fc.boolean(), (bytes, e, ct, trunc) => {
        const b = Buffer.from(bytes);
        const d = decodeBody({ bytes: b, size: b.length + (trunc ? 10 : 0), truncated: trunc }, [['Content-Encoding', e], ['Content-Type', ct]]);
        expect(Array.isArray(d.notes)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
  it('on truncated real encodings', () => {
    fc.assert(
      fc.property(fc.constantFrom('gzip', 'br', 'zstd', 'deflate'), fc.nat(), (e, cut) => {
        const full = e === 'gzip' ? zlib.gzipSync(raw) : e === 'br' ? zlib.brotliCompressSync(raw) : e === 'zstd' ? zstdFrameRaw(raw) : zlib.deflateSync(raw);
        const n = cut % full.length;
        decodeBody({ bytes: full.subarray(0, n), size: full.length, truncated: true }, enc(e));
      }),
      { numRuns: 300 },
    );
  });
});

describe('decodeBody: zstd', () => {
  it('decodes a frame written by the zstd CLI', async () => {
    const { readFileSync } = await import('node:fs');
    const dir = new URL('../fixtures/bodies/', import.meta.url);
    const d = decodeBody(capture(readFileSync(new URL('lookup.json.zst', dir))), enc('zstd'));
    expect(d.json).toEqual(JSON.parse(readFileSync(new URL('lookup.json', dir), 'utf8')));
  });
  it('stops a zstd RLE bomb (1 GiB) at the cap', async () => {
    const { zstdRleBomb } = await import('../fixtures/bodies/zstd.js');
    const t0 = performance.now();
    const d = decodeBody(capture(zstdRleBomb(8192)), enc('zstd'));
    expect(d.truncated).toBe(true);
    expect(d.bytes.length).toBe(DECODE_LIMIT);
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});
