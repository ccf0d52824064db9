import { describe, expect, it } from 'vitest';
import { matchIdentityLookup, matrixIdentityHash } from '../../rules/identity-hash.js';
import { buildKnownValueIndex } from '../../rules/known-values.js';

describe('Matrix IS v2 hash (spec test vectors, pepper matrixrocks)', () => {
  it.each([
    ['alice@example.com', 'email', '4kenr7N9drpCJ4AfalmlGQVsOn3o2RHjkADUpXJWZUc'],
    ['18005552067', 'msisdn', 'nlo35_T5fzSGZzJApqu8lgIudJvmOQtDaHtr-I4rU7I'],
    ['bob@example.com', 'email', 'LJwSazmv46n0hlMlsb_iYxI0_HXEqy_yj6Jm636cdT8'],
  ])('%s %s', (address, medium, hash) => {
    expect(matrixIdentityHash(address, medium, 'matrixrocks')).toBe(hash);
  });
});

describe('matchIdentityLookup', () => {
  const idx = buildKnownValueIndex([
    { kind: 'email', value: 'Bob@Example.com' },
    { kind: 'phone', value: '+1 800 555 2067' },
    { kind: 'mxid', value: '@alice:example.org' },
  ]);
  it('names the contacts of a sha256 lookup', () => {
    const body = {
      algorithm: 'sha256',
      pepper: 'matrixrocks',
      addresses: ['zzz', 'LJwSazmv46n0hlMlsb_iYxI0_HXEqy_yj6Jm636cdT8', 'nlo35_T5fzSGZzJApqu8lgIudJvmOQtDaHtr-I4rU7I'],
    };
    expect(matchIdentityLookup(body, idx).map((h) => [h.index, h.identity.value, h.chain])).toEqual([
      [1, 'Bob@Example.com', 'matrix-is-sha256(lower)'],
      [2, '+1 800 555 2067', 'matrix-is-sha256(digits)'],
    ]);
  });
  it('accepts the standard base64 alphabet (and padding)', () => {
    const std = 'nlo35/T5fzSGZzJApqu8lgIudJvmOQtDaHtr+I4rU7I=';
    expect(matchIdentityLookup({ pepper: 'matrixrocks', addresses: [std] }, idx)[0]?.chain).toBe('matrix-is-sha256-base64(digits)');
  });
  it('matches algorithm none plaintext', () => {
    const hits = matchIdentityLookup({ algorithm: 'none', pepper: 'matrixrocks', addresses: ['bob@example.com email', '18005552067 msisdn'] }, idx);
    expect(hits.map((h) => h.chain)).toEqual(['matrix-is-none(lower)', 'matrix-is-none(digits)']);
  });
  it('a different pepper gives no match; other shapes give nothing', () => {
    expect(matchIdentityLookup({ pepper: 'other', addresses: ['LJwSazmv46n0hlMlsb_iYxI0_HXEqy_yj6Jm636cdT8'] }, idx)).toEqual([]);
    for (const b of [null, 1, 'x', [], { pepper: 1, addresses: [] }, { pepper: 'p', addresses: 'x' }, { pepper: 'p', addresses: [1, null] }]) {
      expect(matchIdentityLookup(b, idx)).toEqual([]);
    }
  });
});
