/**
 * Retention (`--retention-days N`, default 30): old exchanges are deleted in small bounded passes
 * (Pi-hole FTL deletes at most 1 % per pass after long blocking times, FTL#1372). One pass is one
 * short transaction of at most `maxRows` exchanges with their findings, details and bodies; the
 * aggregates are decremented in the same transaction, and values nothing refers to any more go too.
 */
import type { Logger } from '../core/log.js';
import { createAggregateFixer, type GoneFinding, type GoneFlow } from './aggregates.js';
import { createBodyDeleter } from './body-rows.js';
import type { Store } from './db.js';

const DAY_MS = 86_400_000;

interface OldRow extends GoneFlow {
  readonly id: number;
}

/** Delete up to maxRows exchanges that started before cutoffMs. Returns how many went. */
export function retentionPass(store: Store, cutoffMs: number, maxRows = 1000): number {
  const { db } = store;
  const fix = createAggregateFixer(db);
  let n = 0;
  db.transaction(() => {
    const old = db.prepare(`SELECT id, time, session_id, party_id, 1 AS flows, finding_count AS leaks
      FROM exchanges WHERE time < ? ORDER BY time LIMIT ?`).all(cutoffMs, maxRows) as OldRow[];
    if (old.length === 0) return;
    const ids = JSON.stringify(old.map((r) => r.id));
    const gone = db.prepare(`SELECT f.kind_id, f.value_id, e.session_id, e.party_id, e.category_id, e.time
      FROM findings f JOIN exchanges e ON e.id = f.exchange_id
      WHERE f.exchange_id IN (SELECT value FROM json_each(?))`).all(ids) as Array<GoneFinding & { value_id: number }>;
    db.prepare('DELETE FROM findings WHERE exchange_id IN (SELECT value FROM json_each(?))').run(ids);
    db.prepare('DELETE FROM details WHERE exchange_id IN (SELECT value FROM json_each(?))').run(ids);
    createBodyDeleter(db)(old.map((r) => r.id));
    db.prepare('DELETE FROM exchanges WHERE id IN (SELECT value FROM json_each(?))').run(ids);
    // Past retention, a value nobody refers to is personal data with no purpose left.
    db.prepare(`DELETE FROM values_by_id WHERE id IN (SELECT value FROM json_each(?))
      AND NOT EXISTS (SELECT 1 FROM findings WHERE value_id = values_by_id.id)`)
      .run(JSON.stringify([...new Set(gone.map((g) => g.value_id))]));
    fix.findingsGone(gone);
    fix.flowsGone(old);
    n = old.length;
  })();
  if (n > 0) store.bumpEpoch();
  return n;
}

export interface RetentionOptions {
  readonly days: number;
  /** How often to look for old rows. Default one minute. */
  readonly intervalMs?: number;
  readonly maxRowsPerPass?: number;
  /** Passes per tick before waiting for the next tick (a backlog is worked off gradually). */
  readonly maxPassesPerTick?: number;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface Retention {
  /** Run passes now (yielding to the event loop between passes); resolves with rows deleted. */
  runOnce(): Promise<number>;
  stop(): void;
}

export function startRetention(store: Store, opts: RetentionOptions): Retention {
  const maxRows = opts.maxRowsPerPass ?? 1000;
  const maxPasses = opts.maxPassesPerTick ?? 20;
  const now = opts.now ?? Date.now;
  let running = false;
  let stopped = false;

  const runOnce = async (): Promise<number> => {
    if (running || opts.days <= 0) return 0;
    running = true;
    let total = 0;
    try {
      const cutoff = now() - opts.days * DAY_MS;
      for (let pass = 0; pass < maxPasses && !stopped && store.db.open; pass++) {
        const n = retentionPass(store, cutoff, maxRows);
        total += n;
        if (n < maxRows) break;
        await new Promise((r) => setImmediate(r));
      }
      if (total > 0) opts.log.info({ deleted: total, days: opts.days }, 'retention: old exchanges deleted');
    } catch (err: unknown) {
      opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'retention pass failed; retrying next tick');
    } finally {
      running = false;
    }
    return total;
  };

  const timer = setInterval(() => void runOnce(), opts.intervalMs ?? 60_000);
  timer.unref();
  return {
    runOnce,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
