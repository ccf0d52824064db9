/**
 * Interning of leaked values by their keyed hash (values_by_id). The bounded cache maps the raw
 * value -> id, so a repeated value costs neither an HMAC nor a query; only process memory (which
 * holds the exchange anyway) ever sees the raw value.
 */
import type Database from 'better-sqlite3';

const CACHE_CAP = 50_000;

export interface ValueInterner {
  /** `describe` runs on a cache miss only: it gives the keyed hash and what to store. */
  id(raw: string, describe: () => { hash: Buffer; shown: string; redacted: boolean }): number;
  reset(): void;
}

export function createValueInterner(db: Database.Database): ValueInterner {
  let cache = new Map<string, number>();
  const ins = db.prepare('INSERT OR IGNORE INTO values_by_id (hash, shown, redacted) VALUES (?, ?, ?)');
  const sel = db.prepare('SELECT id FROM values_by_id WHERE hash = ?').pluck();
  return {
    id(raw, describe) {
      const hit = cache.get(raw);
      if (hit !== undefined) return hit;
      const { hash, shown, redacted } = describe();
      // A new value costs one statement (its rowid); only a value another writer added needs the SELECT.
      const r = ins.run(hash, shown, redacted ? 1 : 0);
      const id = r.changes === 1 ? Number(r.lastInsertRowid) : (sel.get(hash) as number);
      if (cache.size >= CACHE_CAP) cache = new Map();
      cache.set(raw, id);
      return id;
    },
    reset() {
      cache = new Map();
    },
  };
}
