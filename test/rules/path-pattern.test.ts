import { describe, expect, it } from 'vitest';
import { matchPath, parsePathPattern, splitPath, type PathPattern } from '../../rules/path-pattern.js';

function pattern(source: string): PathPattern {
  const r = parsePathPattern(source);
  if (!r.ok) throw new Error(r.error);
  return r.pattern;
}

function match(source: string, path: string): Record<string, string> | null {
  const parts = splitPath(path);
  return parts === null ? null : matchPath(pattern(source), parts);
}

describe('parsePathPattern', () => {
  it.each([
    ['/_matrix/identity/v2/lookup', 4, []],
    ['/_matrix/client/{version}/rooms/{roomId}/send/m.call.invite/{txnId}', 5, ['version', 'roomId', 'txnId']],
    ['/media/{*rest}', 1, ['rest']],
    ['/', 1, []],
    ['/a/', 2, []],
  ])('accepts %s (%i literal segments, names %j)', (source, literals, names) => {
    const p = pattern(source);
    expect(p.literals).toBe(literals);
    expect(p.names).toEqual(names);
  });

  it.each([
    ['a/b', 'must start with "/"'],
    ['', 'must start with "/"'],
    ['/a?x=1', 'must not contain a query'],
    ['/a#frag', 'must not contain a query'],
    ['/a b', 'must not contain spaces'],
    ['/a//b', 'empty segment'],
    ['/a/{*rest}/b', '{*rest} must be the last segment'],
    ['/a/{x}/{x}', 'placeholder {x} appears twice'],
    ['/a/{x}/{*x}', 'placeholder {x} appears twice'],
    ['/a/pre{x}', 'bad placeholder segment "pre{x}"'],
    ['/a/{1x}', 'bad placeholder segment "{1x}"'],
    ['/a/{}', 'bad placeholder segment'],
    ['/a/{x', 'bad placeholder segment'],
    ['/a/x}', 'bad placeholder segment'],
  ])('rejects %j: %s', (source, message) => {
    const r = parsePathPattern(source);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(message);
  });
});

describe('splitPath', () => {
  it.each([
    ['/a/b', ['a', 'b']],
    ['/a/b?x=1/2', ['a', 'b']],
    ['/a/b#f', ['a', 'b']],
    ['/a/', ['a', '']],
    ['/', ['']],
    ['*', null],
    ['', null],
  ])('%j -> %j', (path, parts) => {
    expect(splitPath(path)).toEqual(parts);
  });
});

describe('matchPath', () => {
  it.each([
    // literal
    ['/_matrix/identity/v2/lookup', '/_matrix/identity/v2/lookup', {}],
    ['/_matrix/identity/v2/lookup', '/_matrix/identity/v2/lookup?access_token=x', {}],
    ['/_matrix/identity/v2/lookup', '/_matrix/identity/v2/lookup/', null],
    ['/_matrix/identity/v2/lookup', '/_matrix/identity/v2/lookups', null],
    ['/_matrix/identity/v2/lookup', '/_matrix/identity/v2', null],
    ['/_matrix/identity/v2/lookup', '/_matrix/identity/v2/lookup/x', null],
    ['/_matrix/identity/v2/lookup', '/_MATRIX/identity/v2/lookup', null],
    // literals compare raw: an encoded literal is a different path on the wire
    ['/_matrix/identity/v2/lookup', '/_matrix/identity/v2/look%75p', null],
    // trailing slash is significant
    ['/a/', '/a/', {}],
    ['/a/', '/a', null],
    ['/', '/', {}],
    ['/', '/a', null],
    // {x}: one non-empty segment, percent-decoded
    ['/rooms/{roomId}/send', '/rooms/!abc:example.org/send', { roomId: '!abc:example.org' }],
    ['/rooms/{roomId}/send', '/rooms/%21abc%3Aexample.org/send', { roomId: '!abc:example.org' }],
    ['/rooms/{roomId}/send', '/rooms/%E0%A4%A/send', { roomId: '%E0%A4%A' }],
    ['/rooms/{roomId}/send', '/rooms//send', null],
    ['/rooms/{roomId}/send', '/rooms/a/b/send', null],
    ['/rooms/{roomId}', '/rooms/a%2Fb', { roomId: 'a/b' }],
    ['/profile/{userId}/displayname', '/profile/%40alice%3Aexample.org/displayname?x=1', { userId: '@alice:example.org' }],
    // {*rest}: one or more segments
    ['/media/{*rest}', '/media/a', { rest: 'a' }],
    ['/media/{*rest}', '/media/a/b/c', { rest: 'a/b/c' }],
    ['/media/{*rest}', '/media/a%20b/c?w=1', { rest: 'a b/c' }],
    ['/media/{*rest}', '/media/a/', { rest: 'a/' }],
    ['/media/{*rest}', '/media/', null],
    ['/media/{*rest}', '/media', null],
    ['/media/{*rest}', '/mediax/a', null],
    ['/v/{version}/{*rest}', '/v/r0/x/y', { version: 'r0', rest: 'x/y' }],
  ])('%s matches %s -> %j', (source, path, params) => {
    expect(match(source, path)).toEqual(params);
  });

  it('does not match a path that is not origin-form', () => {
    expect(splitPath('https://example.org/a')).toBeNull();
  });
});
