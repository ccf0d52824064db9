/** The one host grammar and host set (core/hosts.ts), table-driven. */
import { describe, expect, it } from 'vitest';
import { clientAddress, formatAuthority, hostSet, isHostName, normalizeHost, parseHostPattern } from '../../core/hosts.js';

describe('parseHostPattern', () => {
  it.each([
    ['example.org', { kind: 'exact', host: 'example.org' }],
    ['Example.ORG.', { kind: 'exact', host: 'example.org' }],
    ['a_b.example', { kind: 'exact', host: 'a_b.example' }],
    ['_x.example', { kind: 'exact', host: '_x.example' }],
    ['*.example.org', { kind: 'suffix', suffix: 'example.org' }],
    ['*._x.example', { kind: 'suffix', suffix: '_x.example' }],
    ['192.0.2.1', { kind: 'exact', host: '192.0.2.1' }],
    ['[2001:DB8::1]', { kind: 'exact', host: '2001:db8::1' }],
  ])('accepts %s', (text, want) => {
    expect(parseHostPattern(text)).toEqual(want);
  });

  it.each(['', 'a b.example', '*.*.example', 'ex*ample.org', 'http://example.org', 'example.org/x', '-a.example', 'a-.example', 'fe80::1%eth0', `${'a'.repeat(64)}.org`])(
    'refuses %j with a message',
    (text) => {
      expect(typeof parseHostPattern(text)).toBe('string');
    },
  );
});

describe('hostSet', () => {
  const has = hostSet(['exact.example', '*.suffix.example', 'a_b.example', '*._x.example', 'not a host']);
  it.each([
    ['exact.example', true],
    ['sub.exact.example', false],
    ['suffix.example', false], // *.suffix means subdomains only
    ['a.suffix.example', true],
    ['a.b.suffix.example', true],
    ['xsuffix.example', false],
    ['a_b.example', true],
    ['y._x.example', true],
    ['not a host', false],
  ])('%s -> %s', (host, want) => {
    expect(has(host)).toBe(want);
  });
});

describe('small helpers', () => {
  it('normalizes hosts, formats authorities and client addresses', () => {
    expect(normalizeHost('Matrix.ORG.:8448')).toBe('matrix.org');
    expect(normalizeHost('[::1]:443')).toBe('::1');
    expect(isHostName('a_b.example')).toBe(true);
    expect(formatAuthority('::1', 443, 443)).toBe('[::1]');
    expect(formatAuthority('example.org', 8443, 443)).toBe('example.org:8443');
    expect(clientAddress('::FFFF:10.0.0.5')).toBe('10.0.0.5');
    expect(clientAddress('FD00::1')).toBe('fd00::1');
  });
});
