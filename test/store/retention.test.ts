import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.js';
import { createQueries } from '../../store/queries.js';
import { retentionPass, startRetention } from '../../store/retention.js';
import { aggregateMismatch } from './consistency.js';
import { audit, exchange, finding, item, recorder, tempStore } from './fixtures.js';

const DAY = 86_400_000;
const NOW = 1_700_000_000_000 + 100 * DAY;

async function fill(t: ReturnType<typeof tempStore>, n: number): Promise<void> {
  const r = recorder(t.store, { storeBodies: 'all', flushMs: 10_000 });
  // One exchange every ~50 minutes over ~70 days; values repeat so some outlive their rows.
  for (let i = 1; i <= n; i++) {
    r.stage.run(item(exchange(i, { time: NOW - 70 * DAY + i * 3_000_000, reqBody: 'b' }),
      audit([finding('email', `u${i % 7}@x.org`), finding('device_id', `DEV${i}`)], i % 2 ? 'vector.im' : 'matrix.org')));
  }
  await r.close();
}

describe('retention', () => {
  let t: ReturnType<typeof tempStore>;
  afterEach(() => t?.cleanup());

  it('deletes in bounded passes, oldest first, keeping aggregates equal to the raw rows', async () => {
    t = tempStore();
    await fill(t, 2000);
    const cutoff = NOW - 30 * DAY;
    const old = t.store.db.prepare('SELECT count(*) FROM exchanges WHERE time < ?').pluck().get(cutoff) as number;
    expect(old).toBeGreaterThan(1000);
    const passes: number[] = [];
    for (let n = retentionPass(t.store, cutoff, 250); n > 0; n = retentionPass(t.store, cutoff, 250)) {
      passes.push(n);
      expect(aggregateMismatch(t.store)).toEqual({ summary: [], timeline: [] });
    }
    expect(Math.max(...passes)).toBe(250);
    expect(passes.reduce((a, b) => a + b, 0)).toBe(old);
    const db = t.store.db;
    expect(db.prepare('SELECT count(*) FROM exchanges WHERE time < ?').pluck().get(cutoff)).toBe(0);
    expect(db.prepare('SELECT count(*) FROM findings f LEFT JOIN exchanges e ON e.id = f.exchange_id WHERE e.id IS NULL').pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM details WHERE exchange_id NOT IN (SELECT id FROM exchanges)').pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM bodies WHERE key / 4 NOT IN (SELECT id FROM exchanges)').pluck().get()).toBe(0);
    // Values with no findings left are gone; those still referenced stay.
    expect(db.prepare('SELECT count(*) FROM values_by_id v WHERE NOT EXISTS (SELECT 1 FROM findings WHERE value_id = v.id)').pluck().get()).toBe(0);
    const h = createQueries(t.store).health();
    expect(h.exchanges).toBe(2000 - old);
    expect(h.oldest).toBeGreaterThanOrEqual(cutoff);
  });

  it('startRetention: scheduled passes, bounded per tick', async () => {
    t = tempStore();
    await fill(t, 600);
    const ret = startRetention(t.store, { days: 30, maxRowsPerPass: 100, maxPassesPerTick: 2, intervalMs: 3_600_000, log: silentLogger, now: () => NOW });
    expect(await ret.runOnce()).toBe(200);
    let total = 200;
    for (let n = await ret.runOnce(); n > 0; n = await ret.runOnce()) total += n;
    ret.stop();
    expect(t.store.db.prepare('SELECT count(*) FROM exchanges').pluck().get()).toBe(600 - total);
    expect(aggregateMismatch(t.store)).toEqual({ summary: [], timeline: [] });
  });

  it('the recorder keeps writing correct value ids after retention deleted cached values', async () => {
    t = tempStore();
    const r = recorder(t.store);
    r.stage.run(item(exchange(1, { time: NOW - 40 * DAY }), audit([finding('email', 'old@x.org')])));
    await r.flush();
    expect(retentionPass(t.store, NOW - 30 * DAY)).toBe(1);
    r.stage.run(item(exchange(2, { time: NOW }), audit([finding('email', 'old@x.org')])));
    await r.close();
    expect(createQueries(t.store).getFlow(2)!.findings[0]!.value).toBe('old@x.org');
  });
});
