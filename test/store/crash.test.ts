/**
 * Crash safety with a real child process: SIGKILL mid-load leaves a file that opens, passes
 * integrity_check and lost at most one batch window; SIGTERM (close()) loses nothing.
 */
import Database from 'better-sqlite3';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './fixtures.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');

interface Progress { enq: number; written: number; queued: number }

function runChild(file: string, until: (p: Progress) => boolean, signal: NodeJS.Signals) {
  const child = spawn(process.execPath, [join(here, 'crash-child.mjs'), file, '10'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const seen: Progress[] = [];
  let closed: string | null = null;
  return new Promise<{ seen: Progress[]; closed: string | null }>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [tag, a, b, c] = line.split(' ');
      if (tag === 'closed') closed = line;
      if (tag !== 'p') return;
      const p = { enq: Number(a), written: Number(b), queued: Number(c) };
      seen.push(p);
      if (until(p) && !child.killed) child.kill(signal);
    });
    child.on('error', reject);
    child.on('exit', () => setTimeout(() => resolve({ seen, closed }), 20));
  });
}

describe('crash safety (child process)', () => {
  let cleanup = (): void => {};
  afterEach(() => cleanup());
  beforeAll(() => {
    // Only the store and what it imports: independent of the rest of the tree compiling.
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2022', '--esModuleInterop', '--skipLibCheck', '--rootDir', root, '--outDir', join(root, 'dist'),
      join(root, 'store/db.ts'), join(root, 'store/recorder.ts'), join(root, 'core/log.ts')], { cwd: root, stdio: 'inherit' });
  }, 180_000);

  it('SIGKILL under load: integrity ok, loss within one batch window', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const file = join(t.dir, 'leakwatch.db');
    // ~2000 exchanges/s (10 every 5 ms); kill once more than a second of traffic has been written, mid-window (a full-ish queue).
    const { seen } = await runChild(file, (p) => p.written >= 2000 && p.queued >= 100, 'SIGKILL');
    const last = seen[seen.length - 1]!;
    const db = new Database(file);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const rows = db.prepare('SELECT count(*) FROM exchanges').pluck().get() as number;
    const findings = db.prepare('SELECT count(*) FROM findings').pluck().get() as number;
    db.close();
    const maxQueued = Math.max(...seen.map((p) => p.queued));
    const lost = last.enq - rows;
    console.log(`crash: enqueued>=${last.enq} written(last report)=${last.written} rows=${rows} lost<=${lost} max queue depth=${maxQueued}`);
    expect(rows).toBeGreaterThanOrEqual(last.written);
    expect(findings).toBe(rows * 3);
    // Everything lost was still in the queue: at most what one flush window held (plus the
    // last 10 ms between the progress line and the kill).
    expect(lost).toBeLessThanOrEqual(maxQueued + 40);
    // And one window is one window: the queue never grew past a batch (flushes kept up).
    expect(maxQueued).toBeLessThan(1000);
  }, 60_000);

  it('SIGTERM: close() writes every enqueued exchange', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const file = join(t.dir, 'leakwatch.db');
    const { closed } = await runChild(file, (p) => p.enq >= 1500, 'SIGTERM');
    expect(closed).toMatch(/^closed \d+ \d+$/);
    const [, enq, written] = closed!.split(' ').map(Number);
    const db = new Database(file);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare('SELECT count(*) FROM exchanges').pluck().get()).toBe(enq);
    expect(written).toBe(enq);
    db.close();
  }, 60_000);
});
