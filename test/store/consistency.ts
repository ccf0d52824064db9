/** The aggregates must always equal what the raw rows say. */
import type { Store } from '../../store/db.js';

export function aggregateMismatch(store: Store): { summary: unknown[]; timeline: unknown[] } {
  const { db } = store;
  const summary = db.prepare(`
    WITH raw AS (SELECT e.session_id, e.party_id, e.category_id, f.kind_id, count(*) AS c, min(e.time) AS f, max(e.time) AS l
      FROM findings f JOIN exchanges e ON e.id = f.exchange_id GROUP BY 1, 2, 3, 4)
    SELECT 'missing' AS what, * FROM raw r WHERE NOT EXISTS (SELECT 1 FROM summary s WHERE s.session_id = r.session_id
      AND s.party_id = r.party_id AND s.category_id = r.category_id AND s.kind_id = r.kind_id
      AND s.count = r.c AND s.first_seen = r.f AND s.last_seen = r.l)
    UNION ALL
    SELECT 'extra', s.session_id, s.party_id, s.category_id, s.kind_id, s.count, s.first_seen, s.last_seen FROM summary s
      WHERE NOT EXISTS (SELECT 1 FROM raw r WHERE s.session_id = r.session_id AND s.party_id = r.party_id
      AND s.category_id = r.category_id AND s.kind_id = r.kind_id)`).all();
  const timeline = db.prepare(`
    WITH raw AS (SELECT time / 60000 AS minute, session_id, party_id, count(*) AS flows, sum(finding_count) AS leaks,
      (SELECT count(*) FROM findings f JOIN exchanges x ON x.id = f.exchange_id WHERE x.time / 60000 = e.time / 60000
        AND x.session_id = e.session_id AND x.party_id = e.party_id) AS real_leaks
      FROM exchanges e GROUP BY 1, 2, 3)
    SELECT 'missing' AS what, * FROM raw r WHERE r.leaks != r.real_leaks OR NOT EXISTS (SELECT 1 FROM timeline t
      WHERE t.minute = r.minute AND t.session_id = r.session_id AND t.party_id = r.party_id AND t.flows = r.flows AND t.leaks = r.leaks)
    UNION ALL
    SELECT 'extra', t.minute, t.session_id, t.party_id, t.flows, t.leaks, 0 FROM timeline t WHERE NOT EXISTS (SELECT 1 FROM raw r
      WHERE t.minute = r.minute AND t.session_id = r.session_id AND t.party_id = r.party_id)`).all();
  return { summary, timeline };
}
