import { describe, expect, it } from 'vitest';
import { validatePack, type PackIssue } from '../../rules/schema.js';

/** A minimal valid rule; tests override fields. */
const rule = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: 'test.rule.one',
  party: 'somebody',
  category: 'analytics',
  hosts: ['example.org'],
  severity: 'low',
  why: 'A reason.',
  cite: 'test',
  remediation: 'A fix.',
  ...over,
});
const pack = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  pack: 'test',
  version: 1,
  description: 'Test pack.',
  rules: [rule()],
  ...over,
});

function issues(raw: unknown): readonly PackIssue[] {
  const v = validatePack(raw);
  return v.ok ? [] : v.issues;
}
const fields = (raw: unknown): string[] => issues(raw).map((i) => `${i.path.join('.')}: ${i.message}`);

describe('validatePack: valid packs and defaults', () => {
  it('applies defaults and normalises', () => {
    const v = validatePack(
      pack({
        rules: [
          rule({
            methods: ['post', 'Get'],
            hosts: ['Scalar.Vector.IM', '*'],
            extract: [{ from: 'json', path: 'a[*]', kind: 'contact_hash' }, { from: 'body', kind: 'message_content', part: 'response' }],
          }),
        ],
      }),
    );
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    const r = v.value.rules[0]!;
    expect(r.methods).toEqual(['POST', 'GET']);
    expect(r.hosts).toEqual(['scalar.vector.im', '*']);
    expect(r.paths).toEqual([]);
    expect(r.action).toBe('log');
    expect(r.extract).toEqual([
      { from: 'json', path: 'a[*]', kind: 'contact_hash', part: 'request' },
      { from: 'body', kind: 'message_content', part: 'response' },
    ]);
    expect(v.value.defaults).toBeUndefined();
  });

  it.each(['a.b', 'matrix.identity.v2.lookup', 'vendor-x.product_y.endpoint', '0.1'])('accepts rule id %s', (id) => {
    expect(issues(pack({ rules: [rule({ id })] }))).toEqual([]);
  });

  it('accepts threepid as a kind, and path extractors naming a placeholder of every path', () => {
    const r = rule({
      paths: ['/a/{user}', '/b/{user}/{x}'],
      extract: [{ from: 'path', name: 'user', kind: 'threepid' }],
    });
    expect(issues(pack({ rules: [r] }))).toEqual([]);
  });
});

describe('validatePack: problems', () => {
  it.each([
    ['unknown top-level key', pack({ extra: 1 }), ['extra: unknown key "extra"']],
    ['misspelt rule key', pack({ rules: [rule({ hsots: ['x'] })] }), ['rules.0.hsots: unknown key "hsots" (did you mean hosts?)']],
    ['extractor key', pack({ rules: [rule({ extract: [{ from: 'query', nme: 'q', name: 'q', kind: 'email' }] })] }),
      ['rules.0.extract.0.nme: unknown key "nme" (did you mean name?)']],
    ['wrong version', pack({ version: 2 }), ['version: must be 1']],
    ['version as string', pack({ version: '1' }), ['version: must be 1']],
    ['missing version', pack({ version: undefined }), ['version: required; must be 1']],
    ['bad category', pack({ rules: [rule({ category: 'analytic' })] }), [/^rules.0.category: must be one of identity-server, .*, widget \(did you mean analytics\?\)$/]],
    ['missing category', pack({ rules: [rule({ category: undefined })] }), [/^rules.0.category: required; must be one of identity-server/]],
    ['bad severity', pack({ rules: [rule({ severity: 'critical' })] }), ['rules.0.severity: must be one of info, low, medium, high']],
    ['bad action', pack({ rules: [rule({ action: 'drop' })] }), [/^rules.0.action: must be one of log, block/]],
    ['bad kind', pack({ rules: [rule({ extract: [{ from: 'query', name: 'q', kind: 'emails' }] })] }),
      [/^rules.0.extract.0.kind: must be one of email, .*threepid \(did you mean email\?\)$/]],
    ['bad from', pack({ rules: [rule({ extract: [{ from: 'xml', name: 'q', kind: 'email' }] })] }),
      ['rules.0.extract.0.from: must be one of query, header, cookie, json, form, multipart, path, sdp, body, connection']],
    ['missing locator', pack({ rules: [rule({ extract: [{ from: 'json', kind: 'email' }] })] }), ['rules.0.extract.0.path: required']],
    ['bad part', pack({ rules: [rule({ extract: [{ from: 'body', kind: 'email', part: 'both' }] })] }),
      ['rules.0.extract.0.part: must be one of request, response']],
    ['missing why', pack({ rules: [rule({ why: undefined })] }), ['rules.0.why: required']],
    ['blank cite', pack({ rules: [rule({ cite: '   ' })] }), ['rules.0.cite: must not be empty']],
    ['null remediation', pack({ rules: [rule({ remediation: null })] }), ['rules.0.remediation: required']],
    ['id without dot', pack({ rules: [rule({ id: 'nodot' })] }), [/^rules.0.id: must be dotted lower-case/]],
    ['upper-case id', pack({ rules: [rule({ id: 'Matrix.x' })] }), [/^rules.0.id: must be dotted lower-case/]],
    ['id with double dot', pack({ rules: [rule({ id: 'a..b' })] }), [/^rules.0.id: must be dotted lower-case/]],
    ['bad pack name', pack({ pack: 'My Pack' }), [/^pack: must be lower-case/]],
    ['empty hosts', pack({ rules: [rule({ hosts: [] })] }), ['rules.0.hosts: must not be empty']],
    ['hosts not a list', pack({ rules: [rule({ hosts: 'example.org' })] }), ['rules.0.hosts: must be a list, not string "example.org"']],
    ['bad host', pack({ rules: [rule({ hosts: ['ok.org', 'vector.im:443'] })] }), [/^rules.0.hosts.1: must not include a port/]],
    ['bad path', pack({ rules: [rule({ paths: ['/a/{*rest}/b'] })] }), ['rules.0.paths.0: {*rest} must be the last segment']],
    ['bad method', pack({ rules: [rule({ methods: ['GET POST'] })] }), [/^rules.0.methods.0: must be an HTTP method/]],
    ['no rules', pack({ rules: [] }), ['rules: must not be empty']],
    ['rule not a mapping', pack({ rules: ['x'] }), ['rules.0: must be a mapping, not string "x"']],
    ['empty file', null, [/^: the file is empty: a rule pack must be a mapping/]],
    ['a list', [1], [/^: a rule pack must be a mapping .*, not a list$/]],
    ['duplicate id in a file', pack({ rules: [rule(), rule({ party: 'x' })] }), ['rules.1.id: duplicate rule id "test.rule.one"']],
    ['path extractor, placeholder in no path', pack({ rules: [rule({ paths: ['/a/{y}', '/b'], extract: [{ from: 'path', name: 'x', kind: 'mxid' }] })] }),
      ['rules.0.extract.0.name: placeholder {x} is not in any path of the rule']],
    ['path extractor, placeholder in some paths only (fine)', pack({ rules: [rule({ paths: ['/a/{x}', '/b', '/c'], extract: [{ from: 'path', name: 'x', kind: 'mxid' }] })] }),
      []],
    ['path extractor, any path', pack({ rules: [rule({ extract: [{ from: 'path', name: 'x', kind: 'mxid' }] })] }),
      ['rules.0.extract.0.name: placeholder {x} needs paths, but the rule matches any path']],
    ['path extractor in defaults', pack({ defaults: { extract: [{ from: 'path', name: 'x', kind: 'mxid' }] } }),
      [/^defaults.extract.0.from: a path extractor cannot be a pack default/]],
    ['unknown defaults key', pack({ defaults: { extrct: [] } }), ['defaults.extrct: unknown key "extrct" (did you mean extract?)']],
  ])('%s', (_name, raw, expected) => {
    const got = fields(raw);
    expect(got).toHaveLength(expected.length);
    expected.forEach((e, i) => (typeof e === 'string' ? expect(got[i]).toBe(e) : expect(got[i]).toMatch(e)));
  });

  it('reports every problem, including cross-field ones next to field errors', () => {
    const r = rule({ category: 'nope', paths: ['/a'], extract: [{ from: 'path', name: 'x', kind: 'mxid' }] });
    const got = fields(pack({ version: 3, rules: [r, rule({ why: '' })] }));
    expect(got).toEqual([
      'version: must be 1',
      expect.stringMatching(/^rules.0.category: must be one of/),
      'rules.1.why: must not be empty',
      'rules.0.extract.0.name: placeholder {x} is not in any path of the rule',
      'rules.1.id: duplicate rule id "test.rule.one"',
    ]);
  });

  it('marks unknown keys to point at the key, duplicates with the first place', () => {
    const [unknown] = issues(pack({ extra: 1 }));
    expect(unknown).toMatchObject({ path: ['extra'], atKey: true });
    const [dup] = issues(pack({ rules: [rule(), rule()] }));
    expect(dup).toMatchObject({ path: ['rules', 1, 'id'], also: ['rules', 0, 'id'] });
  });
});
