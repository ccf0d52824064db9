import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../core/exchange.js';
import { harToExchanges, toHar } from '../../core/har.js';
import { audit, exchange, finding } from '../store/fixtures.js';
import { harValidator } from '../store/har-schema.js';

const validate = harValidator();

const samples = (): Exchange[] => [
  exchange(1, { reqBody: JSON.stringify({ threepids: ['a@b.org'] }), path: '/_matrix/identity/v2/lookup?x=1&y=%20z' }),
  { ...exchange(2, { resBody: '' }), request: { ...exchange(2).request, body: { bytes: Buffer.from([0, 255, 1, 2]), size: 4, truncated: false } } },
  { ...exchange(3), response: { status: 200, statusMessage: 'OK', headers: [['Content-Type', 'image/png']],
    body: { bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00]), size: 6, truncated: false } } },
  (() => { const { response: _r, ...rest } = exchange(4); return { ...rest, error: { code: 'LW_UPSTREAM_TIMEOUT', message: 'timed out' } }; })(),
  { ...exchange(5, { host: 'matrix.example' }), kind: 'websocket',
    request: { ...exchange(5).request, url: 'wss://matrix.example/sync', scheme: 'wss', host: 'matrix.example', path: '/sync', method: 'GET' },
    websocket: { connectionId: 3, direction: 'receive', binary: false, data: { bytes: Buffer.from('{"type":"m.room.message"}'), size: 25, truncated: false } } },
];

describe('core/har', () => {
  it('toHar validates against the HAR 1.2 schema and carries findings', () => {
    const har = toHar(samples().map((ex) => ({ exchange: ex, audit: audit([finding('email', 'a@b.org')]), session: 's1' })));
    expect(validate(har)).toBeNull();
    const e0 = har.log.entries[0] as unknown as Record<string, unknown>;
    expect(e0['_leaks']).toEqual([{ kind: 'email', value: 'a@b.org', where: 'request.body.x', method: 'structural' }]);
    expect(e0['_leakwatch']).toMatchObject({ id: 1, rule: 'vector.im/rule', category: 'identity-server', party: 'vector.im', severity: 'high', verdict: 'allow', session: 's1' });
    expect(har.log.entries[0]!.request.queryString).toEqual([{ name: 'x', value: '1' }, { name: 'y', value: ' z' }]);
    expect(har.log.entries[2]!.response.content.encoding).toBe('base64');
  });

  it('harToExchanges(toHar(x)) gives back method, url, headers and bodies', () => {
    const input = samples();
    const { exchanges, errors } = harToExchanges(JSON.parse(JSON.stringify(toHar(input.map((exchange) => ({ exchange }))))));
    expect(errors).toEqual([]);
    expect(exchanges).toHaveLength(input.length);
    exchanges.forEach((got, i) => {
      const want = input[i]!;
      expect(got.kind).toBe(want.kind);
      expect([got.request.method, got.request.url, got.request.host, got.request.port, got.request.path, got.request.scheme])
        .toEqual([want.request.method, want.request.url, want.request.host, want.request.port, want.request.path, want.request.scheme]);
      expect(got.request.headers).toEqual(want.request.headers);
      expect(got.request.body.bytes.equals(want.request.body.bytes)).toBe(true);
      expect(got.response?.status).toBe(want.response?.status);
      if (want.response) expect(got.response!.body.bytes.equals(want.response.body.bytes)).toBe(true);
      expect(got.error?.code).toBe(want.error?.code);
      expect(got.startedAt).toBe(want.startedAt);
      expect(got.meta?.['harIndex']).toBe(i);
    });
    expect(exchanges[4]!.websocket).toEqual(input[4]!.websocket);
  });

  it('reads browser-style HAR (Chrome: pseudo-headers, params, _webSocketMessages) and reports broken entries', () => {
    const har = { log: { version: '1.2', entries: [
      { startedDateTime: '2025-01-01T00:00:00.000Z', time: 12, request: { method: 'post', url: 'https://a.example/p?q=1', httpVersion: 'h2',
        headers: [{ name: ':authority', value: 'a.example' }, { name: 'cookie', value: 'x=1' }], postData: { mimeType: 'application/x-www-form-urlencoded', params: [{ name: 'e', value: 'a b' }] } },
        response: { status: 204, statusText: '', headers: [], content: { size: 0, mimeType: '' } } },
      { request: { url: 'chrome-extension://abc/x.js' } },
      { request: { url: 'not a url' } },
      'junk',
      { startedDateTime: '2025-01-01T00:00:01Z', request: { method: 'GET', url: 'wss://m.example/s', headers: [] }, response: { status: 101 },
        _webSocketMessages: [{ type: 'send', time: 1735689601.5, opcode: 1, data: 'hello' }, { type: 'receive', time: 1735689602, opcode: 2, data: 'AAEC' }] },
    ] } };
    const { exchanges, errors } = harToExchanges(har);
    expect(errors).toEqual(['entry 1: not an HTTP request (chrome-extension:)', 'entry 2: not an absolute URL: not a url', 'entry 3: not an object']);
    expect(exchanges).toHaveLength(3);
    expect(exchanges[0]!.request).toMatchObject({ method: 'POST', httpVersion: '2', headers: [['cookie', 'x=1']] });
    expect(exchanges[0]!.request.body.bytes.toString()).toBe('e=a+b');
    expect(exchanges[1]!.websocket).toMatchObject({ direction: 'send', binary: false });
    expect(exchanges[1]!.startedAt).toBe(1735689601500);
    expect(exchanges[2]!.websocket?.data.bytes).toEqual(Buffer.from([0, 1, 2]));
    expect(exchanges.map((e) => e.meta?.['harIndex'])).toEqual([0, 4, 4]);
    expect(harToExchanges({})).toEqual({ exchanges: [], errors: ['not a HAR file: log.entries is missing'], skipped: [] });
  });

  it('never throws on arbitrary JSON (property)', () => {
    const entryLike = fc.record({ request: fc.anything(), response: fc.anything(), startedDateTime: fc.anything(),
      _webSocketMessages: fc.anything(), _leakwatch: fc.anything(), _error: fc.anything() }, { requiredKeys: [] });
    fc.assert(fc.property(fc.oneof(fc.jsonValue(), fc.record({ log: fc.record({ entries: fc.array(fc.oneof(fc.jsonValue(), entryLike)) }) })), (v) => {
      const r = harToExchanges(v);
      expect(Array.isArray(r.exchanges) && Array.isArray(r.errors)).toBe(true);
    }), { numRuns: 500 });
  });
});
