import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rulesCheckCommand } from '../../cli/rules-check.js';
import { packageRoot } from '../../core/paths.js';

const FIX = 'test/fixtures/packs';

describe('rulesCheckCommand', () => {
  it('lists each valid pack with its rule count', () => {
    const r = rulesCheckCommand([`${FIX}/good`]);
    expect(r.ok).toBe(true);
    expect(r.output.split('\n')).toEqual([
      `ok  alpha  3 rules    ${FIX}/good/alpha.yaml`,
      `ok  beta   2 rules    ${FIX}/good/beta.yml`,
      '2 packs, 5 rules: ok',
    ]);
  });

  it('lists every error as file:line:col: field: message, with the valid packs', () => {
    const r = rulesCheckCommand([`${FIX}/good/beta.yml`, `${FIX}/bad/many.yaml`, `${FIX}/bad/host.yaml`]);
    expect(r.ok).toBe(false);
    const lines = r.output.split('\n');
    expect(lines[0]).toBe(`ok  beta  2 rules    ${FIX}/good/beta.yml`);
    expect(lines[1]).toBe(`${FIX}/bad/many.yaml:2:10: version: must be 1`);
    expect(lines[2]).toMatch(/many\.yaml:7:15: rules\[0\]\.category: must be one of /);
    expect(lines[3]).toBe(`${FIX}/bad/many.yaml:14:5: rules[0].hsots: unknown key "hsots" (did you mean hosts?)`);
    expect(lines[4]).toBe(`${FIX}/bad/host.yaml:8:13: rules[0].hosts[0]: must not include a port: hosts are compared without port`);
    expect(lines[5]).toBe('4 problems (1 valid pack, 2 rules)');
    expect(lines).toHaveLength(6);
  });

  it.each([
    [`${FIX}/dup-ids`, /dup-ids\/b\.yaml:13:9: rules\[1\]\.id: duplicate rule id "shared\.rule\.id" \(first defined at .*a\.yaml:5:9\)/],
    [`${FIX}/bad/syntax.yaml`, /syntax\.yaml:9:5: YAML: /],
    [`${FIX}/nope`, /^test\/fixtures\/packs\/nope: cannot read: ENOENT$/m],
  ])('fails on %s', (path, pattern) => {
    const r = rulesCheckCommand([path]);
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(pattern);
  });

  it.runIf(existsSync(join(packageRoot(), 'rules', 'matrix.yaml')))('checks the built-in packs when given no path', () => {
    const r = rulesCheckCommand([]);
    expect(r.output).toMatch(/matrix/);
  });
});
