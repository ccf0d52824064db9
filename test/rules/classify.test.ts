import { describe, expect, it } from 'vitest';
import { classify, firstPartySet, isFirstParty } from '../../rules/classify.js';
import { loadRuleset } from '../../rules/load.js';

// alpha: identity lookup (POST, any host), profile displayname (first-party-exposure, PUT, any host),
// scalar.vector.im (any path, block); beta: *.example.net /media/{*rest}, *.vector.im any path.
const ruleset = loadRuleset({ builtin: false, extra: ['test/fixtures/packs/good'] });
const HOME = firstPartySet(['matrix.example.org', '*.home.example']);

describe('isFirstParty', () => {
  it.each([
    ['matrix.example.org', true],
    ['MATRIX.example.org:8448', true],
    ['matrix.example.org.', true],
    ['example.org', false],
    ['x.matrix.example.org', false],
    ['a.home.example', true],
    ['a.b.home.example', true],
    ['home.example', false],
    ['nothome.example', false],
    ['vector.im', false],
  ])('%s -> %s', (host, expected) => {
    expect(isFirstParty(host, HOME)).toBe(expected);
  });

  it('is false with no first-party hosts', () => {
    expect(isFirstParty('matrix.example.org', new Set())).toBe(false);
  });

  it('normalises --first-party values', () => {
    expect([...firstPartySet(['Matrix.Example.ORG:8448', ' *.Home.Example. ', 'a.org.', ''])]).toEqual([
      'matrix.example.org',
      '*.home.example',
      'a.org',
    ]);
  });
});

describe('classify', () => {
  it.each([
    // first-party: ordinary client traffic is not a leak
    ['GET', 'matrix.example.org', '/_matrix/client/v3/sync?since=s1', null, true],
    ['GET', 'media.home.example', '/_matrix/client/v3/sync', null, true],
    // first-party: exposure rules still apply
    ['PUT', 'matrix.example.org', '/_matrix/client/v3/profile/%40a%3Ab.c/displayname', 'alpha.profile.displayname', true],
    // first-party: an identity-server rule (hosts "*") does not apply to your own homeserver
    ['POST', 'matrix.example.org', '/_matrix/identity/v2/lookup', null, true],
    // third party: identity-server rule with hosts "*" matches any host
    ['POST', 'vector.im', '/_matrix/identity/v2/lookup', 'alpha.identity.lookup', false],
    ['POST', 'id.example.com:443', '/_matrix/identity/v2/lookup?x=1', 'alpha.identity.lookup', false],
    ['GET', 'vector.im', '/_matrix/identity/v2/lookup', null, false],
    // a rule naming the path beats a host-wide catch-all; host specificity breaks ties
    ['POST', 'scalar.vector.im', '/_matrix/identity/v2/lookup', 'alpha.identity.lookup', false],
    ['GET', 'scalar.vector.im', '/api/register', 'alpha.scalar.any', false],
    ['GET', 'app.vector.im', '/config.json', 'beta.vector.any', false],
    ['POST', 'app.vector.im', '/_matrix/identity/v2/lookup', 'alpha.identity.lookup', false],
    ['GET', 'cdn.example.net', '/media/a/b', 'beta.media.rest', false],
    ['GET', 'example.net', '/media/a/b', null, false],
    ['GET', 'cdn.example.net', '/media/', null, false],
    // exposure rules also apply to third-party hosts
    ['PUT', 'other.org', '/_matrix/client/r0/profile/@a:b.c/displayname', 'alpha.profile.displayname', false],
  ])('%s %s %s -> %s (first-party %s)', (method, host, path, ruleId, firstParty) => {
    const r = classify({ method, host, path }, ruleset, HOME);
    expect(r.match?.rule.id ?? null).toBe(ruleId);
    expect(r.firstParty).toBe(firstParty);
  });

  it('returns the params and extractors of the best match', () => {
    const r = classify(
      { method: 'PUT', host: 'matrix.example.org', path: '/_matrix/client/v3/profile/%40a%3Ab.c/displayname' },
      ruleset,
      HOME,
    );
    expect(r.match?.params).toEqual({ version: 'v3', userId: '@a:b.c' });
    expect(r.match?.extract.map((x) => x.from)).toEqual(['header', 'path', 'json']);
  });

  it('on a first-party host, skips better non-exposure matches for an exposure rule', () => {
    const home = firstPartySet(['scalar.vector.im']);
    const r = classify({ method: 'POST', host: 'scalar.vector.im', path: '/_matrix/identity/v2/lookup' }, ruleset, home);
    expect(ruleset.match('POST', 'scalar.vector.im', '/_matrix/identity/v2/lookup')[0]!.rule.id).toBe('alpha.identity.lookup');
    expect(r.match).toBeNull();
    const p = classify({ method: 'PUT', host: 'scalar.vector.im', path: '/_matrix/client/v3/profile/x/displayname' }, ruleset, home);
    expect(p.match?.rule.id).toBe('alpha.profile.displayname');
  });

  it('is pure: same input, same answer', () => {
    const input = { method: 'POST', host: 'vector.im', path: '/_matrix/identity/v2/lookup' };
    expect(classify(input, ruleset, HOME)).toEqual(classify(input, ruleset, HOME));
  });
});
