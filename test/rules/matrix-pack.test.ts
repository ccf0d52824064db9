/**
 * The built-in Matrix packs (rules/matrix*.yaml) against their fixture table
 * (test/fixtures/matrix/cases.yaml): every case is classified and extracted exactly as the audit
 * stage does it, and the table must cover every rule with a positive and a near-miss negative.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Exchange } from '../../core/exchange.js';
import { fixtureExchange, type FixtureRequest, type FixtureResponse } from '../fixtures/matrix/build.js';
import { CATEGORIES, KINDS } from '../../core/vocabulary.js';
import { packageRoot } from '../../core/paths.js';
import { classify, firstPartySet } from '../../rules/classify.js';
import { extractFindings } from '../../rules/extract.js';
import { buildKnownValueIndex } from '../../rules/known-values.js';
import { loadRuleset } from '../../rules/load.js';

// ---------------------------------------------------------------------------------------------
// The fixture table
// ---------------------------------------------------------------------------------------------

interface Case {
  readonly name: string;
  readonly request: FixtureRequest;
  readonly response?: FixtureResponse;
  readonly rule: string | null;
  readonly nearMiss?: string;
  readonly firstParty?: readonly string[];
  /** Expected findings; `method` defaults to `structural` (the rule's own extractors found it). */
  readonly findings?: ReadonlyArray<{ readonly kind: string; readonly value: string; readonly method?: string }>;
  /** Findings that must NOT be produced (near misses of a decoder or a detector); no value: any of the kind. */
  readonly absent?: ReadonlyArray<{ readonly kind: string; readonly value?: string }>;
}
interface Table {
  readonly firstParty: readonly string[];
  readonly cases: readonly Case[];
}

const table = parse(readFileSync(join(packageRoot(), 'test/fixtures/matrix/cases.yaml'), 'utf8'), {
  maxAliasCount: 1000,
  merge: true,
}) as Table;

// ---------------------------------------------------------------------------------------------
// Building an Exchange from a case
// ---------------------------------------------------------------------------------------------

const toExchange = (c: Case, id: number): Exchange => fixtureExchange(c.request, c.response, id);

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

const ruleset = loadRuleset({ builtin: true, extra: [] });
const matrixPacks = ruleset.packs.filter((p) => p.pack === 'matrix' || p.pack.startsWith('matrix-'));
const matrixRules = matrixPacks.flatMap((p) => p.rules);
const known = buildKnownValueIndex([]);
const defaultFirstParty = firstPartySet(table.firstParty);

function run(c: Case, i: number) {
  const ex = toExchange(c, i + 1);
  const fp = c.firstParty ? firstPartySet(c.firstParty) : defaultFirstParty;
  const pathOnly = ex.request.path.split('?')[0]!;
  const { match, firstParty } = classify({ method: ex.request.method, host: ex.request.host, path: pathOnly, target: ex.request.path }, ruleset, fp, ex);
  const { findings, notes } = extractFindings(ex, match, { firstParty, known });
  return { match, findings, notes };
}

describe('Matrix packs: loading', () => {
  it('loads the three Matrix packs', () => {
    expect(matrixPacks.map((p) => p.pack).sort()).toEqual(['matrix', 'matrix-homeserver', 'matrix-synapse']);
  });

  it('uses only the closed categories and kinds, and documents every rule', () => {
    for (const r of matrixRules) {
      expect(CATEGORIES, r.id).toContain(r.category);
      for (const x of r.extract) expect([...KINDS, 'threepid'], `${r.id} ${JSON.stringify(x)}`).toContain(x.kind);
      for (const field of [r.party, r.why, r.cite, r.remediation]) expect(field.trim().length, r.id).toBeGreaterThan(10);
      expect(r.cite, r.id).toMatch(/research: |seed: |source: /);
    }
  });

  it('routes only first-party-exposure rules through the header-free pack', () => {
    const home = matrixPacks.find((p) => p.pack === 'matrix-homeserver')!;
    expect(home.defaults.extract).toEqual([]);
    for (const r of home.rules) expect(r.category, r.id).toBe('first-party-exposure');
    for (const p of matrixPacks.filter((x) => x.pack !== 'matrix-homeserver')) {
      for (const r of p.rules) expect(r.category, r.id).not.toBe('first-party-exposure');
    }
  });

  it('matches identity-server and push-gateway paths on any host', () => {
    for (const r of matrixRules) {
      const identity = r.paths.some((p) => p.startsWith('/_matrix/identity/'));
      const push = r.paths.includes('/_matrix/push/v1/notify') && r.id === 'synapse.push.notify';
      if (identity || push) expect(r.hosts, r.id).toContain('*');
    }
  });
});

describe('Matrix packs: fixture cases', () => {
  table.cases.forEach((c, i) => {
    it(`${c.name}`, () => {
      const { match, findings, notes } = run(c, i);
      expect(match?.rule.id ?? null, `rule for ${c.request.method} ${c.request.url}`).toBe(c.rule);
      for (const want of c.findings ?? []) {
        const method = want.method ?? 'structural';
        const hit = findings.some((f) => f.kind === want.kind && f.value === want.value && f.method === method);
        const got = JSON.stringify(findings.map((f) => [f.kind, f.value, f.method]));
        expect(hit, `finding ${want.kind}=${want.value} (${method}); got ${got}; notes ${JSON.stringify(notes)}`).toBe(true);
      }
      for (const no of c.absent ?? []) {
        const bad = findings.filter((f) => f.kind === no.kind && (no.value === undefined || f.value === no.value));
        expect(bad, `no ${no.kind}${no.value === undefined ? '' : `=${no.value}`} finding`).toEqual([]);
      }
    });
  });
});

describe.runIf(process.env['DUMP_EXTRACTORS'])('dump: extractors that never fire', () => {
  it('dump', () => {
    const fired = new Set<string>();
    table.cases.forEach((c, i) => {
      if (c.nearMiss !== undefined || c.rule === null) return;
      const ex = toExchange(c, i + 1);
      const pathOnly = ex.request.path.split('?')[0]!;
      const fp = c.firstParty ? firstPartySet(c.firstParty) : defaultFirstParty;
      const { match, firstParty } = classify({ method: ex.request.method, host: ex.request.host, path: pathOnly }, ruleset, fp, ex);
      if (!match) return;
      for (const spec of match.rule.extract) {
        const r = extractFindings(ex, { ...match, extract: [spec] }, { firstParty, known });
        if (r.findings.some((f) => f.method === 'structural')) fired.add(`${match.rule.id} ${JSON.stringify(spec)}`);
      }
    });
    for (const r of matrixRules) for (const spec of r.extract) {
      const k = `${r.id} ${JSON.stringify(spec)}`;
      if (!fired.has(k)) console.log('NEVER', k);
    }
  });
});

describe('Matrix packs: coverage of the fixture table', () => {
  const ids = new Set(matrixRules.map((r) => r.id));

  it('names only rules that exist', () => {
    for (const c of table.cases) {
      if (c.rule !== null) expect(ids, c.name).toContain(c.rule);
      if (c.nearMiss !== undefined) expect(ids, c.name).toContain(c.nearMiss);
      if (c.nearMiss !== undefined) expect(c.rule, `${c.name}: a near miss must not expect its own rule`).not.toBe(c.nearMiss);
    }
  });

  it('has a positive case for every rule', () => {
    const positives = new Set(table.cases.filter((c) => c.nearMiss === undefined && c.rule !== null).map((c) => c.rule));
    expect([...ids].filter((id) => !positives.has(id))).toEqual([]);
  });

  it('has a near-miss negative case for every rule', () => {
    const negatives = new Set(table.cases.map((c) => c.nearMiss).filter((x) => x !== undefined));
    expect([...ids].filter((id) => !negatives.has(id))).toEqual([]);
  });

  it('gives every positive case of a rule with extractors at least one expected finding', () => {
    const byId = new Map(matrixRules.map((r) => [r.id, r]));
    const withFindings = new Set(
      table.cases.filter((c) => c.nearMiss === undefined && (c.findings?.length ?? 0) > 0).map((c) => c.rule),
    );
    const missing = [...byId.values()].filter((r) => r.extract.length > 0 && !withFindings.has(r.id)).map((r) => r.id);
    expect(missing).toEqual([]);
  });
});
