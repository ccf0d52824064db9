/**
 * The exposure aggregate (what each party learned, per host and outcome) against a recount from
 * the raw rows, through the real recorder (multi-row chunks, so findings land before and after
 * their exchange), purge and retention-style deletes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../core/vocabulary.js';
import { createQueries } from '../../store/queries.js';
import { audit, exchange, finding, item, recorder, tempStore } from './fixtures.js';

const T0 = 1_700_000_040_000;

/** The same numbers, counted from exchanges + findings (slow, exact). */
function recount(t: ReturnType<typeof tempStore>) {
  return t.store.db.prepare(`SELECT p.name AS party, h.name AS host, k.name AS kind,
      CASE WHEN v.name IN ('block','neutralize') THEN 'prevented' WHEN v.name = 'hold' THEN 'held'
        WHEN w.name LIKE 'response%' THEN 'answered' ELSE 'sent' END AS outcome, count(*) AS count
    FROM findings f JOIN exchanges e ON e.id = f.exchange_id JOIN kinds_by_id k ON k.id = f.kind_id
      JOIN wheres_by_id w ON w.id = f.where_id JOIN verdicts_by_id v ON v.id = e.verdict_id
      LEFT JOIN parties_by_id p ON p.id = e.party_id JOIN hosts_by_id h ON h.id = e.host_id
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`).all();
}

const cells = (t: ReturnType<typeof tempStore>) =>
  createQueries(t.store).exposure().map((c) => ({ party: c.party, host: c.host, kind: c.kind, outcome: c.outcome, count: c.count }))
    .sort((a, b) => `${a.party}|${a.host}|${a.kind}|${a.outcome}`.localeCompare(`${b.party}|${b.host}|${b.kind}|${b.outcome}`));

describe('exposure aggregate', () => {
  let t: ReturnType<typeof tempStore>;
  beforeAll(async () => {
    t = tempStore();
    const r = recorder(t.store);
    const verdicts: Verdict[] = ['allow', 'block', 'would-block', 'neutralize', 'hold', 'strip'];
    for (let i = 1; i <= 300; i++) {
      const verdict = verdicts[i % verdicts.length]!;
      // Up to 9 findings per exchange: chunks of findings fill faster than chunks of exchanges.
      const fs = Array.from({ length: i % 10 }, (_, n) => finding(n % 2 ? 'email' : 'mxid', `v${n}@x.org`, n % 3 === 0 ? 'response.body.x' : 'request.body.x'));
      const a = { ...audit(fs, i % 4 === 0 ? 'tracker' : 'vector.im'), verdict };
      r.stage.run(item(exchange(i, { host: `h${i % 3}.example.com`, time: T0 + i }), a));
    }
    await r.close();
  });
  afterAll(() => t.cleanup());

  it('matches a recount from the raw rows, outcome by outcome', () => {
    const want = recount(t);
    expect(want.length).toBeGreaterThan(20);
    expect(cells(t)).toEqual(want);
  });

  it('blocked and neutralized findings are prevented, response findings answered', () => {
    const c = createQueries(t.store).exposure();
    const sum = (o: string) => c.filter((x) => x.outcome === o).reduce((n, x) => n + x.count, 0);
    expect(sum('prevented')).toBeGreaterThan(0);
    expect(sum('answered')).toBeGreaterThan(0);
    expect(sum('sent')).toBeGreaterThan(0);
    expect(sum('held')).toBeGreaterThan(0);
  });

  it('stays exact after a purge and after deleting exchanges', () => {
    expect(t.store.purgeValue('v1@x.org').findings).toBeGreaterThan(0);
    expect(cells(t)).toEqual(recount(t).filter((x) => (x as { count: number }).count > 0));
    const ids = JSON.stringify(Array.from({ length: 100 }, (_, i) => i + 1));
    t.store.db.transaction(() => {
      t.store.db.prepare('DELETE FROM findings WHERE exchange_id IN (SELECT value FROM json_each(?))').run(ids);
      t.store.db.prepare('DELETE FROM exchanges WHERE id IN (SELECT value FROM json_each(?))').run(ids);
    })();
    expect(cells(t)).toEqual(recount(t));
  });

  it('counts flows for a filter, capped', () => {
    const q = createQueries(t.store);
    expect(q.countFlows({})).toBe(200);
    expect(q.countFlows({}, 50)).toBe(50);
    expect(q.countFlows({ verdict: 'block' })).toBe(q.listFlows({ verdict: 'block', limit: 1000 }).length);
    expect(q.countFlows({ type: 'tls-failure' })).toBe(0);
    expect(q.facets().parties).toEqual(['tracker', 'vector.im']);
  });
});
