import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../core/audit.js';
import type { Exchange } from '../../core/exchange.js';
import { extractFindings } from '../../rules/extract.js';
import { MAX_FINDINGS } from '../../rules/extract-merge.js';
import { buildKnownValueIndex } from '../../rules/known-values.js';
import { ex, match } from '../fixtures/bodies/exchange.js';

const noKnown = buildKnownValueIndex([]);
const known = buildKnownValueIndex([
  { kind: 'email', value: 'bob@example.com' },
  { kind: 'phone', value: '+447700900123' },
]);
const third = { firstParty: false, known };
const brief = (fs: readonly Finding[]) => fs.map((f) => `${f.kind} ${f.value} @${f.where} [${f.method}]`);

const LOOKUP = {
  addresses: ['LJwSazmv46n0hlMlsb_iYxI0_HXEqy_yj6Jm636cdT8', 'THSC4I-3Y3nLb_vqvxaZWXswZuQdugJ_WBrvK0pIy9Y', '8tKbIM8ECZCrzWaEDwSJrS5_l9pNMEEMYFGYNe1qx5M'],
  pepper: 'matrixrocks',
  algorithm: 'sha256',
};

describe('first party', () => {
  it('no match → no findings at all, even with obvious PII', () => {
    const e = ex('https://matrix.example.org/_matrix/client/v3/sync?access_token=syt_YWxpY2U_xxxxxxxxxxxxxxxxxxxx_0000', {
      body: { email: 'bob@example.com', ip: '93.184.216.34' },
    });
    expect(extractFindings(e, null, { firstParty: true, known })).toEqual({ findings: [], notes: [] });
  });
  it('with a match, the homeserver bearer token is not a finding', () => {
    const e = ex('https://matrix.example.org/_matrix/client/v3/pushers/set', {
      headers: [['Content-Type', 'application/json'], ['Authorization', 'Bearer syt_YWxpY2U_xxxxxxxxxxxxxxxxxxxx_0000']],
      body: { pushkey: 'fcm-token-1234567890', device_display_name: 'Pixel 8' },
    });
    const m = match([{ from: 'json', path: 'pushkey', kind: 'push_key', part: 'request' }]);
    expect(brief(extractFindings(e, m, { firstParty: true, known }).findings)).toEqual(['push_key fcm-token-1234567890 @request.body.pushkey [structural]']);
  });
});

describe('structural extractors', () => {
  it('skips values that say nothing about anyone (Accept-Language: * from fetch clients)', () => {
    const e = ex('https://vector.im/x', { headers: [['Accept-Language', '*'], ['Origin', ' ']] });
    const m = match([
      { from: 'header', name: 'accept-language', kind: 'accept_language', part: 'request' },
      { from: 'header', name: 'origin', kind: 'origin', part: 'request' },
    ]);
    expect(extractFindings(e, m, third).findings).toEqual([]);
  });
  it.each<[string, Exchange, Parameters<typeof match>[0], Record<string, string>, string[]]>([
    [
      'query threepid → email',
      ex('https://vector.im/_matrix/identity/api/v1/lookup?medium=email&address=dummy%40example.org'),
      [{ from: 'query', name: 'address', kind: 'threepid', part: 'request' }],
      {},
      ['email dummy@example.org @request.query.address [structural]'],
    ],
    [
      'json threepid → phone',
      ex('https://vector.im/_matrix/identity/api/v1/bulk_lookup', { body: { threepids: [['msisdn', '447700900124'], ['email', 'carol@example.org']] } }),
      [{ from: 'json', path: 'threepids[*][1]', kind: 'threepid', part: 'request' }],
      {},
      ['phone 447700900124 @request.body.threepids[0][1] [structural]', 'email carol@example.org @request.body.threepids[1][1] [structural]'],
    ],
    [
      'header token strips Bearer; user agent kept whole',
      ex('https://vector.im/x', { headers: [['Authorization', 'Bearer abcdef123456'], ['User-Agent', 'Element/1.11.70 Chrome/126.0.0.0']] }),
      [
        { from: 'header', name: 'Authorization', kind: 'token', part: 'request' },
        { from: 'header', name: 'user-agent', kind: 'user_agent', part: 'request' },
      ],
      {},
      ['token abcdef123456 @request.header.authorization [structural]', 'user_agent Element/1.11.70 Chrome/126.0.0.0 @request.header.user-agent [structural]'],
    ],
    [
      'cookie and path placeholder',
      ex('https://matrix.to/_matrix/client/r0/profile/%40bob%3Aremote.example.net', { headers: [['Cookie', '__cf_bm=abc123; other=1']] }),
      [
        { from: 'cookie', name: '__cf_bm', kind: 'cookie', part: 'request' },
        { from: 'path', name: 'userId', kind: 'mxid', part: 'request' },
      ],
      { userId: '%40bob%3Aremote.example.net' },
      ['cookie abc123 @request.cookie.__cf_bm [structural]', 'mxid @bob:remote.example.net @request.path.userId [structural]'],
    ],
    [
      'response json @keys',
      ex('https://vector.im/_matrix/identity/v2/lookup', { body: {}, response: { body: { mappings: { LJw: '@bob:example.com' } } } }),
      [
        { from: 'json', path: 'mappings.@keys', kind: 'contact_hash', part: 'response' },
        { from: 'json', path: 'mappings.*', kind: 'mxid', part: 'response' },
      ],
      {},
      ['contact_hash LJw @response.body.mappings.LJw [structural]', 'mxid @bob:example.com @response.body.mappings.LJw [structural]'],
    ],
    [
      'form and multipart',
      ex('https://rageshakes.element.io/api/submit', {
        headers: [['Content-Type', 'multipart/form-data; boundary=XX']],
        body: '--XX\r\nContent-Disposition: form-data; name="user_id"\r\n\r\n@alice:example.org\r\n--XX--\r\n',
      }),
      [{ from: 'multipart', name: 'user_id', kind: 'mxid', part: 'request' }],
      {},
      ['mxid @alice:example.org @request.multipart.user_id [structural]'],
    ],
    [
      'SDP candidates: host private + srflx public',
      ex('https://matrix.example.org/_matrix/client/v3/rooms/!r:example.org/send/m.call.candidates/t1', {
        method: 'PUT',
        body: {
          candidates: [
            { candidate: 'candidate:842163049 1 udp 1677729535 203.0.113.7 54321 typ srflx raddr 0.0.0.0 rport 0 generation 0' },
            { candidate: 'candidate:1 1 udp 2122260223 192.168.1.20 49152 typ host generation 0' },
          ],
        },
      }),
      [{ from: 'sdp', path: 'candidates[*].candidate', kind: 'ip_address', part: 'request' }],
      {},
      [
        'ip_address 203.0.113.7 @request.body.candidates[0].candidate#srflx [structural]',
        'ip_address 192.168.1.20 @request.body.candidates[1].candidate#host [structural]',
        'room_id !r:example.org @request.path [pattern]',
      ],
    ],
  ])('%s', (_n, e, extract, params, want) => {
    expect(brief(extractFindings(e, match(extract, params), { firstParty: false, known: noKnown }).findings)).toEqual(want);
  });
});

describe('known values and the IS v2 hash', () => {
  it('names the user contacts in a lookup, replacing the contact_hash findings', () => {
    const e = ex('https://vector.im/_matrix/identity/v2/lookup', { body: LOOKUP });
    const m = match([{ from: 'json', path: 'addresses[*]', kind: 'contact_hash', part: 'request' }]);
    expect(brief(extractFindings(e, m, third).findings)).toEqual([
      'contact_hash 8tKbIM8ECZCrzWaEDwSJrS5_l9pNMEEMYFGYNe1qx5M @request.body.addresses[2] [structural]',
      'email bob@example.com @request.body.addresses[0] [known-value:matrix-is-sha256(lower)]',
      'phone +447700900123 @request.body.addresses[1] [known-value:matrix-is-sha256(digits)]',
    ]);
  });
  it('finds declared values in query, path, header, cookie, form, gzip body and ws send', () => {
    const sha = 'f2e6c5e8a5bd2bd9d2e5e4d1d8e1e7f9'; // unrelated noise
    const e1 = ex(`https://t.example.net/p/bob%40example.com/x?em=${encodeURIComponent(Buffer.from('bob@example.com').toString('base64'))}&n=${sha}`, {
      headers: [['X-Ph', '00447700900123'], ['Cookie', 'u=bob@example.com']],
    });
    expect(brief(extractFindings(e1, null, third).findings)).toEqual([
      'email bob@example.com @request.path [known-value:plain]',
      'email bob@example.com @request.query.em [known-value:base64(lower)]',
      'phone +447700900123 @request.header.x-ph [known-value:intl00]',
      'email bob@example.com @request.cookie.u [known-value:plain]',
    ]);
    const gz = ex('https://t.example.net/c', {
      headers: [['Content-Type', 'application/x-www-form-urlencoded'], ['Content-Encoding', 'gzip']],
      body: zlib.gzipSync('a=1&tel=%2B447700900123'),
    });
    expect(brief(extractFindings(gz, null, third).findings)).toEqual(['phone +447700900123 @request.form.tel [known-value:plain]']);
    const ws = ex('wss://t.example.net/ws', { ws: { direction: 'send', data: { m: { to: 'bob@example.com' } } } });
    expect(brief(extractFindings(ws, null, third).findings)).toEqual(['email bob@example.com @websocket.data.m.to [known-value:plain]']);
    const wsIn = ex('wss://t.example.net/ws', { ws: { direction: 'receive', data: { m: { to: 'bob@example.com' } } } });
    expect(extractFindings(wsIn, null, third).findings).toEqual([]);
  });
});

describe('patterns and merge', () => {
  it('scans request strings, not response bodies or plumbing headers', () => {
    const e = ex('https://t.example.net/e?u=%40alice%3Aexample.org', {
      headers: [
        ['Content-Type', 'application/json'],
        ['Referer', 'https://app.element.io/#/room/!kKQxgXZuGNaBIzUOeO:example.org'],
        ['User-Agent', 'Mozilla/5.0 Chrome/126.0.0.0 Safari/537.36'],
        ['Accept', 'carol@example.org'],
      ],
      body: { ts: 1719835200000, '$current_url': 'Home', ip: 'from 93.184.216.34', v: 'Chrome/126.0.0.0', i: 'icon@2x.png' },
      response: { body: { email: 'resp@example.org' } },
    });
    expect(brief(extractFindings(e, null, third).findings)).toEqual([
      'mxid @alice:example.org @request.query.u [pattern]',
      'room_id !kKQxgXZuGNaBIzUOeO:example.org @request.header.referer [pattern]',
      'ip_address 93.184.216.34 @request.body.ip [pattern]',
    ]);
  });
  it('structural beats known-value beats pattern for the same (value, where)', () => {
    const e = ex('https://vector.im/_matrix/identity/v2/validate/email/requestToken', { body: { email: 'bob@example.com', other: 'bob@example.com' } });
    const m = match([{ from: 'json', path: 'email', kind: 'threepid', part: 'request' }]);
    expect(brief(extractFindings(e, m, third).findings)).toEqual([
      'email bob@example.com @request.body.email [structural]',
      'email bob@example.com @request.body.other [known-value:plain]',
    ]);
  });
  it('dedupes repeated values at one place and caps at 500', () => {
    const body = { a: Array.from({ length: 700 }, (_, i) => `u${i}@example.org`), b: ['x@example.org', 'x@example.org'] };
    const r = extractFindings(ex('https://t.example.net/', { body }), null, third);
    expect(r.findings).toHaveLength(MAX_FINDINGS);
    expect(r.notes.join()).toMatch(/kept the first 500/);
    const r2 = extractFindings(ex('https://t.example.net/', { body: { b: 'x@example.org and x@example.org' } }), null, third);
    expect(r2.findings).toHaveLength(1);
  });
  it('decode problems become notes', () => {
    const e = ex('https://t.example.net/', { headers: [['Content-Encoding', 'gzip']], body: 'not gzip' });
    expect(extractFindings(e, null, third).notes.join()).toMatch(/request\.body: content-encoding gzip/);
  });
});

describe('extractFindings never throws', () => {
  const spec = fc.constantFrom(
    { from: 'json', path: 'a[*].b', kind: 'threepid', part: 'request' } as const,
    { from: 'sdp', path: '*', kind: 'ip_address', part: 'request' } as const,
    { from: 'body', kind: 'message_content', part: 'response' } as const,
    { from: 'header', name: 'authorization', kind: 'token', part: 'request' } as const,
    { from: 'cookie', name: '*', kind: 'cookie', part: 'response' } as const,
  );
  it('on arbitrary bodies, headers and paths', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.jsonValue().map((j) => JSON.stringify(j) ?? ''), fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u))),
        fc.string({ maxLength: 40 }),
        fc.array(fc.tuple(fc.constantFrom('Content-Type', 'Content-Encoding', 'Cookie', 'Referer', 'Authorization', 'Set-Cookie'), fc.string({ maxLength: 40 })), { maxLength: 5 }),
        fc.array(spec, { maxLength: 3 }),
        fc.boolean(),
        (body, path, headers, extract, fp) => {
          const base = ex('https://t.example.net/', { body, headers, response: { body, headers } });
          const e = { ...base, request: { ...base.request, path: `/${path}` } };
          const r = extractFindings(e, extract.length ? match(extract, { p: path }) : null, { firstParty: fp, known });
          expect(r.notes.every((n) => !n.startsWith('extract: internal error'))).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });
});
