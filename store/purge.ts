/**
 * `purge --value V`: the right to erasure, for one value. Deletes every finding of the value, the
 * bodies and headers of the exchanges that carried it, the value itself, and rewrites the value
 * out of stored paths/urls. secure_delete zeroes the freed pages and a TRUNCATE checkpoint empties
 * the WAL, so the bytes are gone from the file, not just unlinked.
 */
import { createBodyDeleter } from './body-rows.js';
import type { Store } from './db.js';
import { createAggregateFixer, type GoneFinding } from './aggregates.js';
import { keyedHash } from './redact.js';

interface Hit extends GoneFinding {
  readonly exchange_id: number;
}

export function purgeValue(store: Store, value: string): number {
  const { db } = store;
  const hashes: Buffer[] = [];
  if (store.redactKey) hashes.push(keyedHash(store.redactKey, value));
  if (/^[0-9a-f]{64}$/i.test(value)) hashes.push(Buffer.from(value, 'hex'));
  const byShown = db.prepare('SELECT id FROM values_by_id WHERE shown = ? AND redacted = 0').pluck().all(value) as number[];
  const byHash = db.prepare('SELECT id FROM values_by_id WHERE hash = ?').pluck();
  const ids = new Set<number>(byShown);
  for (const h of hashes) {
    const id = byHash.get(h) as number | undefined;
    if (id !== undefined) ids.add(id);
  }
  if (ids.size === 0) return 0;
  const idList = JSON.stringify([...ids]);
  const fix = createAggregateFixer(db);
  const placeholder = '[purged]';
  const spellings = [value, encodeURIComponent(value)].filter((s, i, a) => s.length >= 3 && a.indexOf(s) === i);

  db.pragma('secure_delete = ON');
  let deleted = 0;
  try {
    db.transaction(() => {
      const hits = db.prepare(`SELECT f.exchange_id, f.kind_id, e.session_id, e.party_id, e.category_id, e.time
        FROM findings f JOIN exchanges e ON e.id = f.exchange_id
        WHERE f.value_id IN (SELECT value FROM json_each(?))`).all(idList) as Hit[];
      const exchanges = [...new Set(hits.map((h) => h.exchange_id))];
      const exList = JSON.stringify(exchanges);
      deleted = db.prepare('DELETE FROM findings WHERE value_id IN (SELECT value FROM json_each(?))').run(idList).changes;
      db.prepare('DELETE FROM values_by_id WHERE id IN (SELECT value FROM json_each(?))').run(idList);
      const perExchange = new Map<number, number>();
      for (const h of hits) perExchange.set(h.exchange_id, (perExchange.get(h.exchange_id) ?? 0) + 1);
      const dec = db.prepare('UPDATE exchanges SET finding_count = finding_count - ? WHERE id = ?');
      for (const [id, n] of perExchange) dec.run(n, id);
      createBodyDeleter(db)(exchanges);
      db.prepare('DELETE FROM details WHERE exchange_id IN (SELECT value FROM json_each(?))').run(exList);
      for (const sp of spellings) {
        db.prepare(`UPDATE exchanges SET path = replace(path, @sp, @ph), url = replace(url, @sp, @ph)
          WHERE id IN (SELECT value FROM json_each(@ids))`).run({ sp, ph: placeholder, ids: exList });
        db.prepare('UPDATE OR IGNORE wheres_by_id SET name = replace(name, @sp, @ph) WHERE instr(name, @sp) > 0')
          .run({ sp, ph: placeholder });
      }
      fix.findingsGone(hits);
      const timeline = db.prepare('UPDATE timeline SET leaks = leaks - ? WHERE minute = ? AND session_id = ? AND party_id = ?');
      for (const h of hits) timeline.run(1, Math.floor(h.time / 60000), h.session_id, h.party_id);
    })();
  } finally {
    db.pragma('secure_delete = OFF');
    store.bumpEpoch();
  }
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } catch {
    // Another connection is reading: its next checkpoint folds the WAL.
  }
  return deleted;
}
