/**
 * The short version of `npm run soak` (bench/soak.ts): steady load through the real proxy process,
 * SIGTERM during load loses nothing, SIGKILL leaves an intact database with at most one batch
 * window lost, RSS sampled every second stays flat. The long run is `npm run soak -- --seconds N`.
 */
import { expect, it } from 'vitest';
import { runSoak } from '../../bench/soak.js';

it('steady load, SIGTERM during load, SIGKILL under load', async () => {
  const lines: string[] = [];
  const r = await runSoak({ seconds: 5, rate: 80, concurrency: 16, killSeconds: 2, log: (l) => lines.push(l) });
  console.log(lines.join('\n'));
  expect(r.term.answered).toBeGreaterThan(200);
  expect(r.term.exit).toBe(0);
  expect(r.term.integrity).toBe('ok');
  expect(r.term.missing).toBe(0);
  expect(r.term.stored).toBeGreaterThanOrEqual(r.term.answered);
  expect(r.kill!.exit).toBe('SIGKILL');
  expect(r.kill!.integrity).toBe('ok');
  expect(r.kill!.answered).toBeGreaterThan(50);
  expect(r.kill!.missing).toBeLessThanOrEqual(r.kill!.windowBound);
  // Flat: after warm-up, RSS does not climb by more than 64 MiB over the run.
  const kib = r.rss.map(([, k]) => k).filter((k) => k > 0);
  expect(Math.max(...kib.slice(2)) - kib[2]!).toBeLessThan(64 * 1024);
}, 60_000);
