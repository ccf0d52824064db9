import { describe, expect, it } from 'vitest';
import { detectEmails } from '../../rules/detect/email.js';
import { detectInText, detectInTextAll, detectPatterns } from '../../rules/detect/index.js';
import { detectIps } from '../../rules/detect/ip.js';
import { detectMatrixIds } from '../../rules/detect/matrix-ids.js';
import { detectPhonesInText, parsePhoneValue, phoneFromField } from '../../rules/detect/phone.js';
import { bearerToken, detectTokens } from '../../rules/detect/tokens.js';

const vals = (cs: Array<{ value: string }>): string[] => cs.map((c) => c.value);

describe('email', () => {
  it.each([
    ['alice@example.com', ['alice@example.com']],
    ['user%40example.org', ['user@example.org']],
    ['a.b+tag@sub.example.co.uk', ['a.b+tag@sub.example.co.uk']],
    ['"Bob@Example.COM"', ['Bob@Example.COM']],
    ['mailto:c@d.io', ['c@d.io']],
    ['?x=1&email=bob@example.com&y', ['bob@example.com']],
    ['icon@2x.png', []],
    ['foo@localhost', []],
    ['@alice:matrix.org', []],
    ['sender @alice:matrix.org said', []],
    ['nothing here', []],
  ])('%s', (text, want) => {
    expect(vals(detectEmails(text))).toEqual(want);
  });
  it('reports offsets into the scanned text', () => {
    const [c] = detectEmails('mail: bob@example.com');
    expect(c).toMatchObject({ start: 6, end: 21 });
  });
});

describe('phone', () => {
  it.each([
    ['call +1 (800) 555-2067 now', ['+18005552067']],
    ['+4915123456789', ['+4915123456789']],
    ['ts 1699999999999 2024-01-02', []],
    ['"ts":1719835200000', []],
    ['2024-07-01T12:00:00+00:00', []],
    ['+1', []],
  ])('text %s', (text, want) => {
    expect(vals(detectPhonesInText(text))).toEqual(want);
  });
  it.each([
    ['msisdn', '447700900123', {}, '+447700900123'],
    ['phone_number', '07700900123', { country: 'GB' }, '+447700900123'],
    ['phone', '+1 800 555 2067', {}, '+18005552067'],
    ['address', '18005552067', { medium: 'msisdn' }, '+18005552067'],
    ['address', '18005552067', { medium: 'email' }, null],
    ['1', '447700900123', ['msisdn', '447700900123'], '+447700900123'],
    ['0', '447700900123 msisdn', [], '+447700900123'],
    ['phone', 1719835200000, {}, null],
    ['phone', '1719835200', {}, null],
    ['ts', '447700900123', {}, null],
  ])('field %s=%s', (key, value, parent, want) => {
    expect(phoneFromField(key, value, parent)).toBe(want);
  });
  it('a ms timestamp is never a phone, even with a country', () => {
    expect(parsePhoneValue('1699999999999', 'DE')).toBeNull();
  });
});

describe('matrix ids', () => {
  const E43 = 'YUwRidLecu_Uk9D3Bfk9k5r1SI6hxI2CS_AGXr4UxSQ';
  const E43std = 'YUwRidLecu+Uk9D3Bfk9k5r1SI6hxI2CS/AGXr4UxSQ';
  it.each([
    ['@alice:example.org', [['mxid', '@alice:example.org']]],
    ['%40alice%3Aexample.org', [['mxid', '@alice:example.org']]],
    ['!kKQxgXZuGNaBIzUOeO:example.org', [['room_id', '!kKQxgXZuGNaBIzUOeO:example.org']]],
    [`/rooms/!${E43}/send`, [['room_id', `!${E43}`]]],
    [`$${E43}`, [['event_id', `$${E43}`]]],
    [`$${E43std}`, [['event_id', `$${E43std}`]]],
    ['#/room/#matrix:matrix.org', [['room_alias', '#matrix:matrix.org']]],
    ['@bob:[::1]:8448', [['mxid', '@bob:[::1]:8448']]],
    ['$current_url', []],
    ['@media:screen', []],
    ['color #fff', []],
    ['alice@example.org', []],
    [`!${E43std}`, []],
  ])('%s', (text, want) => {
    expect(detectMatrixIds(text).map((c) => [c.kind, c.value])).toEqual(want);
  });
});

describe('ip', () => {
  it.each([
    ['from 93.184.216.34 ok', ['93.184.216.34']],
    ['[2a00:1450:4001:82a::200e]:443', ['2a00:1450:4001:82a::200e']],
    ['Chrome/126.0.0.0', []],
    ['v1.2.3.4', []],
    ['1.2.3.4.5', []],
    ['10.0.0.1 192.168.1.2 127.0.0.1', []],
    ['203.0.113.7', []],
    ['12:34:56 and fe80::1 and ::1', []],
    ['999.1.1.1', []],
  ])('%s', (text, want) => {
    expect(vals(detectIps(text))).toEqual(want);
  });
});

describe('tokens', () => {
  it.each([
    ['syt_YWxpY2U_xxxxxxxxxxxxxxxxxxxx_0000', ['syt_YWxpY2U_xxxxxxxxxxxxxxxxxxxx_0000']],
    ['https://x/?access_token=shVYHBl7yTJB&v=1', ['shVYHBl7yTJB']],
    ['/api/account?scalar_token=abc123def&v=1.1', ['abc123def']],
    ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig', ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig']],
    ['eyJub3RhbGciOjF9.eyJzdWIiOiJ4In0.sig', []],
    ['plain text', []],
  ])('%s', (text, want) => {
    expect(vals(detectTokens(text))).toEqual(want);
  });
  it('bearer', () => {
    expect(bearerToken('Bearer shVYHBl7yTJBXRWIhGWypH')).toBe('shVYHBl7yTJBXRWIhGWypH');
    expect(bearerToken('X-Matrix origin="a"')).toBeNull();
  });
});

describe('detectPatterns', () => {
  it('keys add context: credential and server-name keys', () => {
    expect(detectPatterns('GgjePJgsukxWCyzeX9f9RoZq', { key: 'access_token' }).map((c) => c.kind)).toEqual(['token']);
    expect(detectPatterns('example.org', { key: 'matrix_server_name' }).map((c) => c.kind)).toEqual(['server_name']);
  });
  it('SDP text keeps private host candidates with the candidate type', () => {
    const c = detectPatterns('candidate:1 1 udp 2122260223 192.168.1.20 49152 typ host generation 0');
    expect(c).toEqual([expect.objectContaining({ kind: 'ip_address', value: '192.168.1.20', detail: '#host' })]);
  });
  it('numbers are scanned by key only', () => {
    expect(detectPatterns(447700900123, { key: 'msisdn' }).map((c) => c.value)).toEqual(['+447700900123']);
    expect(detectPatterns(1719835200000, { key: 'ts' })).toEqual([]);
  });
});

describe('detectInText word-only shortcut', () => {
  it('finds exactly what every detector finds, on word-like and other strings', () => {
    const pieces = ['a', 'Z', '0', '7', '_', '-', 'sy', 'syt_', 'syr_', 'abcdefghijkl', 'eyJ', 'AAAA', '.', '@', ':', '+', '%40', '=', ' '];
    let seed = 5;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) >>> 16) % n;
    let shortcut = 0;
    for (let i = 0; i < 3000; i++) {
      let t = '';
      // Mostly word pieces, so the shortcut is exercised, with an occasional other character.
      for (let j = 1 + rnd(8); j > 0; j--) t += pieces[rnd(rnd(4) === 0 ? pieces.length : 12)]!;
      if (/^[A-Za-z0-9_-]*$/.test(t)) shortcut++;
      expect(detectInText(t), t).toEqual(detectInTextAll(t));
    }
    expect(detectInText('syt_YWxpY2U_abcdefghijkl_0123')).toHaveLength(1);
    expect(shortcut).toBeGreaterThan(1000);
  });
});

describe('detectInText memo', () => {
  it('answers a repeated text like the first time, read-only, also after the memo starts over', () => {
    const texts = ['alice@example.org', 'call +44 7700 900123', '@bob:matrix.org', 'ip 203.0.113.9', 'nothing here.', '2026-11-29T17:05:53.123Z'];
    const first = texts.map((t) => detectInTextAll(t));
    for (let round = 0; round < 3; round++) {
      texts.forEach((t, i) => expect(detectInText(t), t).toEqual(first[i]));
    }
    const hit = detectInText('alice@example.org');
    expect(Object.isFrozen(hit) && Object.isFrozen(hit[0])).toBe(true);
    // Push well past the bound with distinct texts, then check the originals again.
    for (let i = 0; i < 10_000; i++) detectInText(`u${i}@example.org`);
    texts.forEach((t, i) => expect(detectInText(t), t).toEqual(first[i]));
    // detectPatterns hands out its own array, never the memo's.
    const mine = detectPatterns('alice@example.org');
    mine.push({ kind: 'email', value: 'x@y.org', start: 0, end: 7 });
    expect(detectInText('alice@example.org')).toEqual(first[0]);
  });
});
