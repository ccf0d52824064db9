/** Table-driven checks of the pure parts: CORS headers on local answers, the announced request of a
 * preflight, the timeout flags, and the client's permessage-deflate offer as the origin gets it. */
import { describe, expect, it } from 'vitest';
import { validateStartFlags } from '../../cli/start-options.js';
import type { RawHeaders } from '../../core/exchange.js';
import { announcedRequest, type RequestHead } from '../../core/gate.js';
import { corsHeadersFor } from '../../proxy/cors.js';
import { deflateOfferOf } from '../../proxy/ws.js';

const ORIGIN = ['Origin', 'https://app.example'] as const;

describe('corsHeadersFor', () => {
  const cases: Array<[string, string, RawHeaders, RawHeaders, RawHeaders]> = [
    ['no Origin: nothing', 'GET', [['Host', 'a.test']], [], []],
    [
      'simple request: echo, credentials, Vary, exposed headers',
      'GET',
      [ORIGIN],
      [],
      [
        ['Access-Control-Allow-Origin', 'https://app.example'],
        ['Access-Control-Allow-Credentials', 'true'],
        ['Vary', 'Origin'],
        ['Access-Control-Expose-Headers', 'X-Leakwatch-Error, X-Leakwatch-Verdict'],
      ],
    ],
    [
      'preflight: allows the requested method and headers, not cached',
      'OPTIONS',
      [ORIGIN, ['Access-Control-Request-Method', 'PUT'], ['Access-Control-Request-Headers', 'authorization, content-type']],
      [],
      [
        ['Access-Control-Allow-Origin', 'https://app.example'],
        ['Access-Control-Allow-Credentials', 'true'],
        ['Vary', 'Origin'],
        ['Access-Control-Allow-Methods', 'PUT'],
        ['Access-Control-Allow-Headers', 'authorization, content-type'],
        ['Access-Control-Max-Age', '0'],
      ],
    ],
    [
      'plain OPTIONS is not a preflight',
      'OPTIONS',
      [ORIGIN],
      [],
      [
        ['Access-Control-Allow-Origin', 'https://app.example'],
        ['Access-Control-Allow-Credentials', 'true'],
        ['Vary', 'Origin'],
        ['Access-Control-Expose-Headers', 'X-Leakwatch-Error, X-Leakwatch-Verdict'],
      ],
    ],
    [
      'headers the answer already sets are kept',
      'GET',
      [['origin', 'null']],
      [['access-control-allow-origin', '*']],
      [
        ['Access-Control-Allow-Credentials', 'true'],
        ['Vary', 'Origin'],
        ['Access-Control-Expose-Headers', 'X-Leakwatch-Error, X-Leakwatch-Verdict'],
      ],
    ],
  ];
  it.each(cases)('%s', (_name, method, request, answer, expected) => {
    expect(corsHeadersFor(method, request, answer)).toEqual(expected);
  });
});

describe('announcedRequest', () => {
  const head = (method: string, headers: RawHeaders): RequestHead => ({
    method,
    url: 'https://a.test/x',
    scheme: 'https',
    host: 'a.test',
    port: 443,
    path: '/x',
    headers,
    client: { address: '127.0.0.1', port: 1 },
  });
  it.each([
    ['OPTIONS', [['Access-Control-Request-Method', 'post']], 'POST'],
    ['options', [['access-control-request-method', ' DELETE ']], 'DELETE'],
    ['OPTIONS', [], undefined],
    ['OPTIONS', [['Access-Control-Request-Method', '']], undefined],
    ['GET', [['Access-Control-Request-Method', 'POST']], undefined],
  ] as Array<[string, RawHeaders, string | undefined]>)('%s %j -> %s', (method, headers, want) => {
    const a = announcedRequest(head(method, headers));
    expect(a?.method).toBe(want);
    if (a) expect(a.path).toBe('/x');
  });
});

describe('timeout flags', () => {
  const base = { port: '0', dashboardPort: '0', dataDir: '/nonexistent-not-created' };
  it.each([
    [{}, 10_000, 120_000],
    [{ connectTimeout: '3', idleTimeout: '600' }, 3_000, 600_000],
    [{ upstreamTimeout: '45' }, 10_000, 45_000],
  ])('%j -> connect %d ms, idle %d ms', (flags, connect, idle) => {
    const c = validateStartFlags({ ...base, ...flags });
    expect(c.connectTimeoutMs).toBe(connect);
    expect(c.idleTimeoutMs).toBe(idle);
  });
  it.each([
    [{ connectTimeout: '0' }, /--connect-timeout/],
    [{ idleTimeout: 'x' }, /--idle-timeout/],
    [{ idleTimeout: '60', upstreamTimeout: '30' }, /old name of --idle-timeout/],
  ])('%j is refused', (flags, message) => {
    expect(() => validateStartFlags({ ...base, ...flags })).toThrow(message);
  });
});

describe('deflateOfferOf', () => {
  it.each([
    ['no header', undefined, false],
    ['another extension only', 'x-webkit-deflate-frame', false],
    ['unparsable', 'permessage-deflate; =;;', false],
    ['bare offer: no client_max_window_bits offered', 'permessage-deflate', { clientMaxWindowBits: false }],
    ['browser offer', 'permessage-deflate; client_max_window_bits', { clientMaxWindowBits: true }],
    [
      'every parameter, first offer wins',
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12, permessage-deflate',
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12 },
    ],
  ])('%s', (_name, header, expected) => {
    expect(deflateOfferOf(header)).toEqual(expected);
  });
});
