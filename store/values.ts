/**
 * Interning of leaked values by their keyed hash (values_by_id). The cache maps hash -> id, so raw
 * values never sit in memory longer than one batch, and it is bounded.
 */
import type Database from 'better-sqlite3';

const CACHE_CAP = 50_000;

export interface ValueInterner {
  id(hash: Buffer, shown: string, redacted: boolean): number;
  reset(): void;
}

export function createValueInterner(db: Database.Database): ValueInterner {
  let cache = new Map<string, number>();
  const ins = db.prepare('INSERT OR IGNORE INTO values_by_id (hash, shown, redacted) VALUES (?, ?, ?)');
  const sel = db.prepare('SELECT id FROM values_by_id WHERE hash = ?').pluck();
  return {
    id(hash, shown, redacted) {
      const key = hash.toString('base64');
      const hit = cache.get(key);
      if (hit !== undefined) return hit;
      ins.run(hash, shown, redacted ? 1 : 0);
      const id = sel.get(hash) as number;
      if (cache.size >= CACHE_CAP) cache = new Map();
      cache.set(key, id);
      return id;
    },
    reset() {
      cache = new Map();
    },
  };
}
