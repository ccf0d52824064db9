import { existsSync, writeFileSync } from 'node:fs';
import { tempDir } from '../helpers/temp.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RulePackError } from '../../core/errors.js';
import { packageRoot } from '../../core/paths.js';
import {
  builtinPackPaths,
  collectPacks,
  expandPackPaths,
  loadPackFile,
  loadPacks,
  loadRuleset,
  parsePackText,
} from '../../rules/load.js';

const FIX = 'test/fixtures/packs';

function packError(fn: () => unknown): RulePackError {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof RulePackError) return err;
    throw err;
  }
  throw new Error('expected a RulePackError');
}

describe('loadPackFile: each kind of error names file:line:col and the field', () => {
  it.each([
    ['syntax.yaml', 9, 5, '', 'YAML: Flow sequence in block collection must be sufficiently indented'],
    ['unquoted-star.yaml', 8, 13, '', 'YAML: Alias cannot be an empty string (a "*" host must be quoted: "*")'],
    ['empty.yaml', 1, 1, '', 'the file is empty: a rule pack must be a mapping with pack, version, description and rules'],
    ['version.yaml', 2, 10, 'version', 'must be 1'],
    ['unknown-key.yaml', 14, 5, 'rules[0].hsots', 'unknown key "hsots" (did you mean hosts?)'],
    ['category.yaml', 7, 15, 'rules[0].category', 'must be one of identity-server, integration-manager,'],
    ['kind.yaml', 15, 39, 'rules[0].extract[0].kind', 'must be one of email, phone,'],
    ['from.yaml', 15, 17, 'rules[0].extract[0].from', 'must be one of query, header, cookie, json, form, multipart, path, sdp, body'],
    ['host.yaml', 8, 13, 'rules[0].hosts[0]', 'must not include a port'],
    ['not-a-list.yaml', 8, 12, 'rules[0].hosts', 'must be a list, not string "example.org"'],
    ['placeholder.yaml', 9, 13, 'rules[0].paths[0]', '{*rest} must be the last segment'],
    ['path-extractor.yaml', 15, 29, 'rules[0].extract[0].name', 'placeholder {roomId} is not in any path of the rule'],
    ['missing-why.yaml', 5, 5, 'rules[0].why', 'required'],
    ['bad-id.yaml', 5, 9, 'rules[0].id', 'must be dotted lower-case with at least one dot'],
    ['dup-id.yaml', 14, 9, 'rules[1].id', `duplicate rule id "bad.rule.one" (first defined at ${FIX}/bad/dup-id.yaml:5:9)`],
  ])('%s -> %i:%i %s', (name, line, col, field, message) => {
    const file = `${FIX}/bad/${name}`;
    const err = packError(() => loadPackFile(file));
    expect(err).toMatchObject({ file, line, col, field });
    const prefix = field === '' ? `${file}:${line}:${col}: ` : `${file}:${line}:${col}: ${field}: `;
    expect(err.message.split('\n')).toHaveLength(1);
    expect(err.message.startsWith(prefix + message)).toBe(true);
  });

  it('reports all issues of a file, one per line, in file order; the first gives the error fields', () => {
    const file = `${FIX}/bad/many.yaml`;
    const err = packError(() => loadPackFile(file));
    expect(err).toMatchObject({ file, line: 2, col: 10, field: 'version' });
    const lines = err.message.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`${file}:2:10: version: must be 1`);
    expect(lines[1]).toMatch(new RegExp(`^${file}:7:15: rules\\[0\\]\\.category: must be one of `));
    expect(lines[2]).toBe(`${file}:14:5: rules[0].hsots: unknown key "hsots" (did you mean hosts?)`);
  });

  it('names a file that cannot be read', () => {
    const err = packError(() => loadPackFile(`${FIX}/nope.yaml`));
    expect(err.message).toBe(`${FIX}/nope.yaml: cannot read: ENOENT`);
    expect(err).toMatchObject({ file: `${FIX}/nope.yaml`, line: 0, col: 0, field: '' });
  });

  it('reports an alias to a missing anchor', () => {
    const err = packError(() => parsePackText('pack: *nothing\n', 'x.yaml'));
    expect(err.message).toMatch(/^x\.yaml:1:1: YAML: Unresolved alias/);
  });
});

describe('loadPackFile: good packs', () => {
  it('loads a pack with defaults, sources and normalised fields', () => {
    const p = loadPackFile(`${FIX}/good/alpha.yaml`);
    expect(p).toMatchObject({ pack: 'alpha', version: 1, file: `${FIX}/good/alpha.yaml` });
    expect(p.source).toEqual({ file: `${FIX}/good/alpha.yaml`, line: 2, col: 7 });
    expect(p.description).toMatch(/^Fixture pack/);
    expect(p.defaults.extract).toEqual([{ from: 'header', name: 'user-agent', kind: 'user_agent', part: 'request' }]);
    expect(p.rules.map((r) => r.id)).toEqual(['alpha.identity.lookup', 'alpha.profile.displayname', 'alpha.scalar.any']);
    const [lookup, profile, scalar] = p.rules;
    expect(lookup).toMatchObject({ pack: 'alpha', methods: ['POST'], hosts: ['*'], action: 'log', severity: 'high' });
    expect(lookup!.source).toEqual({ file: `${FIX}/good/alpha.yaml`, line: 10, col: 9 });
    expect(profile!.extract[0]).toEqual({ from: 'path', name: 'userId', kind: 'mxid', part: 'request' });
    expect(scalar).toMatchObject({ hosts: ['scalar.vector.im'], paths: [], methods: [], action: 'block' });
  });

  it('loads a .yml file', () => {
    expect(loadPackFile(`${FIX}/good/beta.yml`).rules).toHaveLength(2);
  });
});

describe('loadPacks and folders', () => {
  it('loads a folder: *.yaml and *.yml only, sorted', () => {
    expect(expandPackPaths([`${FIX}/good`])).toEqual([join(FIX, 'good/alpha.yaml'), join(FIX, 'good/beta.yml')]);
    expect(loadPacks([`${FIX}/good`]).map((p) => p.pack)).toEqual(['alpha', 'beta']);
  });

  it('loads each file once even when named twice', () => {
    expect(loadPacks([`${FIX}/good/beta.yml`, `${FIX}/good`]).map((p) => p.pack)).toEqual(['beta', 'alpha']);
  });

  it.each([
    [`${FIX}/empty-dir`, `${FIX}/empty-dir: no *.yaml or *.yml rule packs in this folder`],
    [`${FIX}/missing-dir`, `${FIX}/missing-dir: cannot read: ENOENT`],
  ])('rejects %s', (path, message) => {
    expect(packError(() => loadPacks([path])).message).toBe(message);
  });

  it('rejects a rule id used in two files, naming both places', () => {
    const err = packError(() => loadPacks([`${FIX}/dup-ids`]));
    expect(err.message).toBe(
      `${FIX}/dup-ids/b.yaml:13:9: rules[1].id: duplicate rule id "shared.rule.id" (first defined at ${FIX}/dup-ids/a.yaml:5:9)`,
    );
    expect(err).toMatchObject({ file: `${FIX}/dup-ids/b.yaml`, line: 13, col: 9, field: 'rules[1].id' });
  });

  it('rejects a pack name used twice, naming both places', () => {
    const err = packError(() => loadPacks([`${FIX}/dup-packs`]));
    expect(err.message).toBe(
      `${FIX}/dup-packs/b.yaml:1:7: pack: duplicate pack name "same" (first defined at ${FIX}/dup-packs/a.yaml:1:7)`,
    );
  });

  it('combines the errors of several files into one error, first file first', () => {
    const err = packError(() => loadPacks([`${FIX}/bad/version.yaml`, `${FIX}/good`, `${FIX}/bad/host.yaml`]));
    const lines = err.message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/version\.yaml:2:10: version: must be 1$/);
    expect(lines[1]).toMatch(/host\.yaml:8:13: rules\[0\]\.hosts\[0\]: must not include a port/);
    expect(err).toMatchObject({ file: `${FIX}/bad/version.yaml`, line: 2 });
  });

  it('collectPacks keeps the good packs and lists the bad files', () => {
    const { packs, errors } = collectPacks([`${FIX}/good`, `${FIX}/bad/version.yaml`, `${FIX}/bad/kind.yaml`]);
    expect(packs.map((p) => p.pack)).toEqual(['alpha', 'beta']);
    expect(errors.map((e) => e.file)).toEqual([`${FIX}/bad/version.yaml`, `${FIX}/bad/kind.yaml`]);
  });

  it('shows absolute paths outside the working directory as they are', () => {
    const dir = tempDir('leakwatch-rules-');
    const file = join(dir, 'x.yaml');
    writeFileSync(file, 'pack: x\nversion: 2\n');
    expect(packError(() => loadPacks([dir])).message.split('\n')[0]).toBe(`${file}:1:1: description: required`);
  });
});

describe('loadRuleset and the built-in packs', () => {
  it('lists only *.yaml of the package rules/ folder, sorted', () => {
    const paths = builtinPackPaths();
    expect([...paths].sort()).toEqual(paths);
    for (const p of paths) expect(p.startsWith(join(packageRoot(), 'rules'))).toBe(true);
    for (const p of paths) expect(p.endsWith('.yaml')).toBe(true);
  });

  it('compiles extra packs without builtins', () => {
    const rs = loadRuleset({ builtin: false, extra: [`${FIX}/good`] });
    expect(rs.packs.map((p) => p.pack)).toEqual(['alpha', 'beta']);
    expect(rs.rules).toHaveLength(5);
    expect(loadRuleset({ builtin: false, extra: [] }).rules).toEqual([]);
  });

  it.runIf(existsSync(join(packageRoot(), 'rules', 'matrix.yaml')))('loads the built-in packs without error', () => {
    const rs = loadRuleset({ builtin: true, extra: [] });
    expect(rs.packs.length).toBeGreaterThan(0);
  });
});
