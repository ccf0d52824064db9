import { describe, expect, it } from 'vitest';
import type { Category } from '../../core/vocabulary.js';
import { compileRuleset, explainRule } from '../../rules/compile.js';
import { RulePackError } from '../../core/errors.js';
import type { ExtractorSpec, Rule, RulePack } from '../../rules/types.js';

let line = 0;
function aRule(id: string, over: Partial<Rule> = {}): Rule {
  return {
    id,
    pack: 'p',
    party: `party of ${id}`,
    category: 'analytics' as Category,
    hosts: ['*'],
    paths: [],
    methods: [],
    severity: 'low',
    why: 'w',
    cite: 'c',
    remediation: 'r',
    action: 'log',
    extract: [],
    source: { file: 'p.yaml', line: ++line, col: 9 },
    ...over,
  };
}
function aPack(name: string, rules: Rule[], defaults: ExtractorSpec[] = []): RulePack {
  return { pack: name, version: 1, description: 'd', file: `${name}.yaml`, defaults: { extract: defaults }, rules };
}
const ids = (rs: ReturnType<typeof compileRuleset>, method: string, host: string, path: string): string[] =>
  rs.match(method, host, path).map((m) => m.rule.id);

describe('match: hosts', () => {
  const rs = compileRuleset([
    aPack('p', [
      aRule('exact.vector', { hosts: ['vector.im'] }),
      aRule('sub.vector', { hosts: ['*.vector.im'] }),
      aRule('any', { hosts: ['*'] }),
      aRule('both.matrix', { hosts: ['matrix.org', '*.matrix.org'] }),
    ]),
  ]);
  it.each([
    ['vector.im', ['exact.vector', 'any']],
    ['VECTOR.IM', ['exact.vector', 'any']],
    ['vector.im:443', ['exact.vector', 'any']],
    ['vector.im.', ['exact.vector', 'any']],
    ['scalar.vector.im', ['sub.vector', 'any']],
    ['a.b.vector.im:8448', ['sub.vector', 'any']],
    ['notvector.im', ['any']],
    ['vector.im.evil.org', ['any']],
    ['matrix.org', ['both.matrix', 'any']],
    ['x.matrix.org', ['both.matrix', 'any']],
  ])('%s -> %j', (host, expected) => {
    expect(ids(rs, 'GET', host, '/')).toEqual(expected);
  });
});

describe('match: methods and paths', () => {
  const rs = compileRuleset([
    aPack('p', [
      aRule('lookup', { methods: ['POST'], paths: ['/_matrix/identity/v2/lookup'] }),
      aRule('profile', { paths: ['/_matrix/client/{v}/profile/{userId}/displayname', '/profile/{userId}'] }),
      aRule('media', { paths: ['/media/{*rest}'], methods: ['GET', 'head'] }),
    ]),
  ]);
  it.each([
    ['POST', '/_matrix/identity/v2/lookup', ['lookup']],
    ['post', '/_matrix/identity/v2/lookup?x=1', ['lookup']],
    ['GET', '/_matrix/identity/v2/lookup', []],
    ['POST', '/_matrix/identity/v2/lookup/', []],
    ['PUT', '/_matrix/client/v3/profile/%40a%3Ab.c/displayname', ['profile']],
    ['PUT', '/profile/@a:b.c', ['profile']],
    ['HEAD', '/media/x/y', ['media']],
    ['POST', '/media/x/y', []],
    ['GET', '*', []],
  ])('%s %s -> %j', (method, path, expected) => {
    expect(ids(rs, method, 'h.org', path)).toEqual(expected);
  });

  it('returns decoded placeholder values', () => {
    const [m] = rs.match('PUT', 'h.org', '/_matrix/client/v3/profile/%40a%3Ab.c/displayname');
    expect(m!.params).toEqual({ v: 'v3', userId: '@a:b.c' });
    expect(rs.match('GET', 'h.org', '/media/a/b%20c')[0]!.params).toEqual({ rest: 'a/b c' });
  });
});

describe('match: priority', () => {
  const a = aPack('a', [
    aRule('a.any.anypath'),
    aRule('a.any.rooms', { paths: ['/rooms/{id}'] }),
    aRule('a.any.rooms.send', { paths: ['/rooms/{id}/send'] }),
    aRule('a.suffix.anypath', { hosts: ['*.example.org'] }),
    aRule('a.exact.anypath', { hosts: ['chat.example.org'] }),
    aRule('a.longsuffix.anypath', { hosts: ['*.chat.example.org'] }),
  ]);
  const b = aPack('b', [aRule('b.any.anypath'), aRule('b.exact.rooms', { hosts: ['chat.example.org'], paths: ['/rooms/{id}'] })]);
  const rs = compileRuleset([a, b]);

  it('more literal path segments first, then exact host > suffix > any host, then pack order', () => {
    expect(ids(rs, 'GET', 'chat.example.org', '/rooms/1')).toEqual([
      'b.exact.rooms', // 1 literal, exact host
      'a.any.rooms', // 1 literal, any host
      'a.exact.anypath', // any path: exact host first
      'a.suffix.anypath',
      'a.any.anypath',
      'b.any.anypath',
    ]);
  });

  it('a rule naming the path beats a host-wide catch-all; a longer suffix beats a shorter one', () => {
    expect(ids(rs, 'GET', 'x.chat.example.org', '/rooms/1/send')).toEqual([
      'a.any.rooms.send',
      'a.longsuffix.anypath',
      'a.suffix.anypath',
      'a.any.anypath',
      'b.any.anypath',
    ]);
  });

  it('uses the most specific matching path of a rule', () => {
    const r = compileRuleset([
      aPack('p', [aRule('two', { paths: ['/{x}/{y}', '/a/b'] }), aRule('one', { paths: ['/a/{y}'] })]),
    ]);
    expect(ids(r, 'GET', 'h', '/a/b')).toEqual(['two', 'one']);
    expect(ids(r, 'GET', 'h', '/a/c')).toEqual(['one', 'two']);
  });
});

describe('compileRuleset', () => {
  it('exposes packs and rules in load order and merges pack default extractors first', () => {
    const ua: ExtractorSpec = { from: 'header', name: 'user-agent', kind: 'user_agent', part: 'request' };
    const own: ExtractorSpec = { from: 'json', path: 'a', kind: 'email', part: 'request' };
    const p = aPack('p', [aRule('x.one', { extract: [own] }), aRule('x.two')], [ua]);
    const rs = compileRuleset([p, aPack('q', [aRule('y.one')])]);
    expect(rs.packs.map((x) => x.pack)).toEqual(['p', 'q']);
    expect(rs.rules.map((r) => r.id)).toEqual(['x.one', 'x.two', 'y.one']);
    expect(rs.match('GET', 'h', '/').map((m) => m.extract)).toEqual([[ua, own], [ua], []]);
  });

  it('matches nothing when empty', () => {
    expect(compileRuleset([]).match('GET', 'h', '/')).toEqual([]);
  });

  it('rejects a bad path in a hand-built pack with its source', () => {
    const bad = aPack('p', [aRule('bad.path', { paths: ['nope'], source: { file: 'p.yaml', line: 4, col: 9 } })]);
    expect(() => compileRuleset([bad])).toThrow(RulePackError);
    expect(() => compileRuleset([bad])).toThrow('p.yaml:4:9: rules bad.path: path "nope" must start with "/"');
  });
});

describe('explain', () => {
  it.each([
    [
      aRule('a.b', { methods: ['POST'], paths: ['/_matrix/identity/v2/lookup'], category: 'identity-server', party: 'vector.im identity server', severity: 'high' }),
      'POST to any host at /_matrix/identity/v2/lookup → identity-server (vector.im identity server), severity high, action log',
    ],
    [
      aRule('a.c', { hosts: ['scalar.vector.im', '*.vector.im'], party: 'Element', category: 'integration-manager', action: 'block' }),
      'Any request to scalar.vector.im or any subdomain of vector.im at any path → integration-manager (Element), severity low, action block',
    ],
    [
      aRule('a.d', { methods: ['GET', 'HEAD', 'PUT'], hosts: ['a.org'], paths: ['/x', '/y/{z}'], party: 'p' }),
      'GET, HEAD or PUT to a.org at /x or /y/{z} → analytics (p), severity low, action log',
    ],
  ])('%#', (rule, sentence) => {
    expect(explainRule(rule)).toBe(sentence);
    expect(compileRuleset([]).explain(rule)).toBe(sentence);
  });
});
