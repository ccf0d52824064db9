/**
 * Keeps `npm run bench` working end to end: the smoke mode (~25 s) must produce latest.json with
 * every headline key (latency, throughput, memory, store figures), as numbers. It never judges speed (CI machines vary too much).
 * mitmdump is optional: without it the bench skips that target and so does this check.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const runJs = join(root, 'dist', 'bench', 'run.js');
const hasMitmdump = (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, 'mitmdump')));
const dir = mkdtempSync(join(tmpdir(), 'lw-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Json = Record<string, unknown>;
const at = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((x, k) => (x && typeof x === 'object' ? (x as Json)[k] : undefined), o);

describe('npm run bench -- --smoke', () => {
  it('writes latest.json with the required keys as numbers', async () => {
    expect(existsSync(runJs), 'dist/bench/run.js missing: npm run build').toBe(true);
    const out = join(dir, 'latest.json');
    const targets = hasMitmdump ? 'direct,leakwatch,mitmdump' : 'direct,leakwatch';
    const { stdout } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile(process.execPath, [runJs, '--smoke', '--targets', targets, '--out', out], { cwd: root, timeout: 170_000 },
        (err: Error | null, so: string, se: string) => (err ? reject(new Error(`${err.message}\n${se}`)) : resolve({ stdout: so, stderr: se })));
    });
    expect(stdout).toContain('Issue 8 targets');
    const rep = JSON.parse(readFileSync(out, 'utf8')) as Json;
    expect(rep.skipped, 'a target could not start').toEqual({});

    const required = [
      'targets.direct.small_c50.rps', 'targets.direct.big_c1.p99_ms',
      'targets.leakwatch.small_c50.rps', 'targets.leakwatch.small_c50.cpu_us_per_req', 'targets.leakwatch.big_c50.rps',
      'targets.leakwatch.small_c1.p50_ms', 'targets.leakwatch.small_c1.rss_mb',
      'ratios.leakwatch_vs_direct_rps', 'new_host_ms_p50', 'new_host_burst20_ms',
      'rss_mb_after_10k', 'rss_mb_after_200k', 'summary_query_ms_1m', 'store_ingest_rows_per_s',
    ];
    if (hasMitmdump) {
      required.push('targets.mitmdump.small_c50.rps', 'targets.mitmdump.small_c50.cpu_us_per_req',
        'ratios.leakwatch_vs_mitmdump_rps', 'ratios.leakwatch_vs_mitmdump_cpu_per_req');
    }
    for (const key of required) {
      expect(typeof at(rep, key), key).toBe('number');
      expect(Number.isFinite(at(rep, key) as number), key).toBe(true);
    }
    // Small counts are labelled, never passed off as the full-size figures.
    expect(at(rep, 'rss_requests.note')).toMatch(/smoke mode/);
    expect(at(rep, 'store.label')).toMatch(/smoke mode/);
    // Every measured run completed requests without errors through each proxy.
    for (const t of Object.keys(rep.targets as Json)) {
      for (const c of ['small_c50', 'big_c50', 'small_c1', 'big_c1']) expect(at(rep, `targets.${t}.${c}.errors`), `${t} ${c}`).toBe(0);
    }
  }, 180_000);
});
