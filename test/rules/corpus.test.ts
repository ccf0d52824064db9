/**
 * The Element corpus (test/fixtures/corpus/element.yaml) scored through the real `leakwatch analyze`
 * path: the requests become a HAR file, analyzeCommand reads it like the CLI does and prints one
 * JSON line per entry. Targets: every leaking third-party request flagged, no first-party request
 * flagged as third-party traffic (only `first-party-exposure` rules, which describe data your server
 * publishes onward, may apply there), leak-kind recall >= 97 % and precision >= 98 % over the
 * third-party requests (kinds per request against the corpus' `kinds`, summed over the corpus).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { analyzeCommand } from '../../cli/analyze.js';
import { toHar } from '../../core/har.js';
import { packageRoot } from '../../core/paths.js';
import { fixtureExchange, type FixtureRequest, type FixtureResponse } from '../fixtures/matrix/build.js';

interface Entry {
  readonly name: string;
  readonly request: FixtureRequest;
  readonly response?: FixtureResponse;
  readonly kinds: readonly string[];
  readonly firstParty?: boolean;
}
interface Corpus {
  readonly firstParty: readonly string[];
  readonly entries: readonly Entry[];
}
interface Row {
  readonly index: number;
  readonly category: string | null;
  readonly leaks: ReadonlyArray<{ kind: string; value: string; where: string; method: string }>;
}

const corpus = parse(readFileSync(join(packageRoot(), 'test/fixtures/corpus/element.yaml'), 'utf8'), {
  maxAliasCount: 1000,
  merge: true,
}) as Corpus;

const dir = mkdtempSync(join(tmpdir(), 'lw-corpus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function analyze(): Promise<Row[]> {
  const har = toHar(corpus.entries.map((e, i) => ({ exchange: fixtureExchange(e.request, e.response, i + 1) })));
  const file = join(dir, 'corpus.har');
  writeFileSync(file, JSON.stringify(har));
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) => new Writable({ write: (c, _e, cb) => (f(String(c)), cb()) });
  const code = await analyzeCommand(file, { json: true, firstParty: [...corpus.firstParty] }, sink((s) => (out += s)), sink((s) => (err += s)));
  expect(code, err).toBe(0);
  return out.trim().split('\n').map((l) => JSON.parse(l) as Row);
}

/** Per-request comparison of kinds; the score sums over the corpus. */
function score(rows: readonly Row[]) {
  let expected = 0;
  let found = 0;
  let hit = 0;
  const misses: string[] = [];
  const extras: string[] = [];
  rows.forEach((r, i) => {
    const e = corpus.entries[i]!;
    if (e.firstParty) return;
    const want = new Set(e.kinds);
    const got = new Set(r.leaks.map((l) => l.kind));
    expected += want.size;
    found += got.size;
    for (const k of want) if (got.has(k)) hit++;
    else misses.push(`${e.name}: ${k}`);
    for (const k of got) if (!want.has(k)) extras.push(`${e.name}: ${k} (${r.leaks.filter((l) => l.kind === k).map((l) => `${l.value}@${l.where}`).join(', ')})`);
  });
  return { recall: hit / expected, precision: hit / found, expected, found, hit, misses, extras };
}

describe('Element corpus through leakwatch analyze', () => {
  it('covers third-party and first-party traffic', () => {
    expect(corpus.entries.filter((e) => !e.firstParty).length).toBeGreaterThanOrEqual(25);
    expect(corpus.entries.filter((e) => e.firstParty).length).toBeGreaterThanOrEqual(15);
  });

  it('flags every leaking third-party request and no first-party one; kind recall >= 97 %, precision >= 98 %', async () => {
    const rows = await analyze();
    expect(rows).toHaveLength(corpus.entries.length);
    const unflagged = corpus.entries.filter((e, i) => !e.firstParty && e.kinds.length > 0 && (rows[i]!.category === null || rows[i]!.leaks.length === 0));
    const falseFlags = corpus.entries.filter((e, i) => e.firstParty && rows[i]!.category !== null && rows[i]!.category !== 'first-party-exposure');
    const exposures = corpus.entries.filter((e, i) => e.firstParty && rows[i]!.category === 'first-party-exposure');
    const s = score(rows);
    // The figures are printed so a run shows them (the report quotes them).
    console.log(`corpus: ${corpus.entries.length} requests; recall ${(s.recall * 100).toFixed(1)} % (${s.hit}/${s.expected}), precision ${(s.precision * 100).toFixed(1)} % (${s.hit}/${s.found})`);
    console.log(`first party: ${exposures.length} requests matched a first-party-exposure rule (${exposures.map((e) => e.name).join(', ')})`);
    if (s.misses.length > 0) console.log(`missed:\n  ${s.misses.join('\n  ')}`);
    if (s.extras.length > 0) console.log(`not expected:\n  ${s.extras.join('\n  ')}`);
    expect(unflagged.map((e) => e.name)).toEqual([]);
    expect(falseFlags.map((e) => e.name)).toEqual([]);
    expect(s.recall).toBeGreaterThanOrEqual(0.97);
    expect(s.precision).toBeGreaterThanOrEqual(0.98);
  });
});
