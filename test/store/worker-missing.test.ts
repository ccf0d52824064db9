/**
 * An install without the recorder's worker script (a partial copy of dist/) must not quietly
 * write SQLite on the proxy's thread: `leakwatch start` refuses with one clear line and a non-zero
 * exit, and nothing keeps running. The explicit inline mode still works without the script.
 */
import { cpSync, existsSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.js';
import { createRecorder } from '../../store/recorder.js';
import { ensureBuilt, repoRoot } from '../helpers/built.js';
import { run } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/temp.js';
import { exchange, item, tempStore } from './fixtures.js';

describe('recorder worker script missing', () => {
  it('leakwatch start fails loudly instead of writing on the main thread', async () => {
    ensureBuilt();
    const root = tempDir('lw-noworker-');
    cpSync(join(repoRoot, 'dist'), join(root, 'dist'), { recursive: true });
    for (const d of ['node_modules', 'rules', 'dashboard']) symlinkSync(join(repoRoot, d), join(root, d));
    copyFileSync(join(repoRoot, 'package.json'), join(root, 'package.json'));
    const script = join(root, 'dist/store/recorder-worker.js');
    expect(existsSync(script)).toBe(true);
    rmSync(script);
    const r = await run([process.execPath, join(root, 'dist/cli/main.js'), 'start', '--port', '0', '--dashboard-port', '0', '--data-dir', join(root, 'data')], { timeoutMs: 30_000 });
    expect(r.stderr).toBe(`leakwatch: the recorder's worker script is missing (${script}); build leakwatch again (npm run build)\n`);
    expect(r.code).toBe(2);
  }, 60_000);

  it("the explicit inline mode writes without a worker", async () => {
    const t = tempStore();
    const r = createRecorder(t.store, { sessionId: t.store.openSession('inline').id, storeBodies: 'none', redact: false, redactKey: Buffer.alloc(32), log: silentLogger, thread: 'inline' });
    r.stage.run(item(exchange(1)));
    await r.flush();
    expect(r.stats()).toMatchObject({ written: 1, queued: 0 });
    await r.close();
    t.cleanup();
  });
});
