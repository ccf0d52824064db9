/**
 * The real command: `leakwatch start` as a process (dist/, built from the current sources). SIGHUP
 * reloads the packs without a restart; a broken pack keeps the last good rules and is logged; an
 * unknown --action rule id is one line on stderr and exit code 2, with nothing started.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, repoRoot } from '../helpers/built.js';
import { until } from '../helpers/until.js';
import { httpViaProxy } from '../helpers/connect-client.js';
import type { Origin } from '../helpers/origin.js';
import { PACK, startEchoOrigin, type Seen } from './harness.js';

const MAIN = join(repoRoot, 'dist/cli/main.js');


let origin: Origin & { received: Seen[] };
let dir: string;
let child: ChildProcess | undefined;
let stderr = '';

beforeAll(async () => {
  ensureBuilt();
  origin = await startEchoOrigin();
  dir = mkdtempSync(join(tmpdir(), 'lw-sighup-'));
}, 200_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  }
  await origin?.close();
  rmSync(dir, { recursive: true, force: true });
});


describe('leakwatch start (process)', () => {
  it('an unknown --action rule id: one line, exit 2, nothing started', () => {
    const r = spawnSync(process.execPath, [MAIN, 'start', '--port', '0', '--dashboard-port', '0', '--data-dir', join(dir, 'bad'), '--action', 'element.analytics.posthgo=block'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('leakwatch: --action element.analytics.posthgo=block: no rule "element.analytics.posthgo" in the loaded packs\n');
    expect(existsSync(join(dir, 'bad', 'leakwatch.db'))).toBe(false);
  });

  it('SIGHUP reloads the packs; a broken pack keeps the last good rules', async () => {
    const pack = join(dir, 'pack.yaml');
    copyFileSync(PACK, pack);
    child = spawn(process.execPath, [MAIN, 'start', '--port', '0', '--dashboard-port', '0', '--data-dir', join(dir, 'lw'), '--no-builtin-rules', '--rules', pack, '--mode', 'enforce', '--resolve', `tracker.test=127.0.0.1:${origin.port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    expect(await until(() => /proxy http:\/\/127\.0\.0\.1:(\d+)/.test(stdout), 20_000)).toBe(true);
    const port = Number(/proxy http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)![1]);
    const tracker = async (): Promise<number> => (await httpViaProxy(port, 'http://tracker.test/collect?uid=1')).status;
    expect(await tracker()).toBe(204);

    const good = readFileSync(pack, 'utf8');
    writeFileSync(pack, good.replace('remediation: Block it.\n    action: block', 'remediation: Block it.\n    action: log'));
    child.kill('SIGHUP');
    expect(await until(async () => (await tracker()) === 200, 5000)).toBe(true);
    expect(await until(() => stderr.includes('rules reloaded'), 2000)).toBe(true);

    writeFileSync(pack, 'pack: [broken');
    child.kill('SIGHUP');
    expect(await until(() => stderr.includes('rules reload failed'), 5000)).toBe(true);
    expect(stderr).toMatch(/pack\.yaml:1:\d+: YAML/);
    expect(await tracker()).toBe(200); // still the last good rules
    expect(child.exitCode).toBeNull();
  }, 60_000);
});
