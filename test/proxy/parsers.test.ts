import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { parseAllowClients } from '../../proxy/cidr.js';
import { parseConnectTarget } from '../../proxy/connect-target.js';
import { buildResolveMap, parseResolveSpec } from '../../proxy/resolve-spec.js';

describe('parseConnectTarget', () => {
  it.each([
    ['example.org:443', { host: 'example.org', port: 443, hostKind: 'dns' }],
    ['Matrix.Org.:8448', { host: 'matrix.org', port: 8448, hostKind: 'dns' }],
    ['10.0.0.1:80', { host: '10.0.0.1', port: 80, hostKind: 'ipv4' }],
    ['[::1]:443', { host: '::1', port: 443, hostKind: 'ipv6' }],
    ['[2001:DB8::1]:65535', { host: '2001:db8::1', port: 65535, hostKind: 'ipv6' }],
    ['_dmarc.x-y.test:1', { host: '_dmarc.x-y.test', port: 1, hostKind: 'dns' }],
  ])('accepts %s', (raw, target) => {
    expect(parseConnectTarget(raw)).toEqual({ ok: true, target });
  });
  it.each([
    '', 'example.org', 'example.org:', 'example.org:0', 'example.org:65536', 'example.org:+1', 'example.org:08a',
    '../../x:443', 'a/b:443', 'a b:443', '-a.test:443', 'a-.test:443', '*.test:443', 'user@host:443',
    '127.1:443', '0x7f.1:443', '1.2.3:443', '::1:443', '[::1]', '[::1]443', '[127.0.0.1]:443', '[fe80::1%lo]:443',
    `${'a'.repeat(64)}.test:443`, `${'a.'.repeat(130)}test:443`,
  ])('rejects %j', (raw) => {
    expect(parseConnectTarget(raw).ok).toBe(false);
  });
});

describe('parseResolveSpec', () => {
  it.each([
    ['vector.im=127.0.0.1:9443', { name: 'vector.im', target: { host: '127.0.0.1', port: 9443 } }],
    ['Vector.IM=10.1.2.3', { name: 'vector.im', target: { host: '10.1.2.3' } }],
    ['a.test=[::1]:8443', { name: 'a.test', target: { host: '::1', port: 8443 } }],
    ['a.test=::1', { name: 'a.test', target: { host: '::1' } }],
  ])('parses %s', (spec, entry) => {
    expect(parseResolveSpec(spec)).toEqual(entry);
  });
  it.each(['vector.im', '=1.2.3.4', 'vector.im=', 'vector.im=example.org', 'vector.im=1.2.3.4:0', 'vector.im=1.2.3.4:x', '1.2.3.4=5.6.7.8', 'a.test=[::1', 'a.test=[1.2.3.4]:1', 'a/b=1.2.3.4'])(
    'rejects %j with a one-line ConfigError',
    (spec) => {
      expect(() => parseResolveSpec(spec)).toThrow(ConfigError);
      try {
        parseResolveSpec(spec);
      } catch (err: unknown) {
        expect((err as Error).message).not.toContain('\n');
      }
    },
  );
  it('builds a map; later flags win', () => {
    expect([...buildResolveMap(['a.test=1.1.1.1', 'a.test=2.2.2.2:8'])]).toEqual([['a.test', { host: '2.2.2.2', port: 8 }]]);
  });
});

describe('parseAllowClients', () => {
  const allow = parseAllowClients(['127.0.0.1', '192.168.1.0/24', 'fd00::/8']);
  it.each([
    ['127.0.0.1', true],
    ['127.0.0.2', false],
    ['192.168.1.77', true],
    ['::ffff:192.168.1.5', true],
    ['192.168.2.1', false],
    ['fd12::1', true],
    ['fe80::1', false],
    ['not-an-ip', false],
  ])('%s -> %s', (addr, ok) => {
    expect(allow(addr)).toBe(ok);
  });
  it.each(['10.0.0.0/33', 'fd00::/129', 'nope', '10.0.0.0/x', '1.2.3.4/-1'])('rejects %j', (spec) => {
    expect(() => parseAllowClients([spec])).toThrow(ConfigError);
  });
});
