/**
 * String interning with an in-memory id cache, so the flusher does one SELECT per new string and
 * none for strings it has seen. The cache can only be trusted for committed rows: after a failed
 * (rolled back) transaction the recorder calls `reset()`, and purge calls it after deleting values.
 */
import type Database from 'better-sqlite3';
import { CATEGORIES, KINDS, SEVERITIES, VERDICTS } from '../core/vocabulary.js';
import type { StringTable } from './migrations.js';

const EXCHANGE_TYPES = ['http', 'websocket', 'tls-failure', 'dns', 'stun'] as const;
/** Past this many cached strings the cache starts over (bounded memory on long captures). */
const CACHE_CAP = 100_000;

export interface Interner {
  /** Id of `name` in `<table>_by_id`, inserting it if new. '' and null map to 0 (none). */
  id(table: StringTable, name: string | null | undefined): number;
  /**
   * `id` bound to one table, for the writer's hot loop: a cache hit is one Map lookup (no table
   * dispatch). Follows reset() like `id`.
   */
  idIn(table: StringTable): (name: string | null | undefined) => number;
  /** Id of an existing string, or undefined (never inserts: for read-side filters). */
  lookup(table: StringTable, name: string): number | undefined;
  /** Name of an id, or null. */
  name(table: StringTable, id: number): string | null;
  reset(): void;
}

export function createInterner(db: Database.Database): Interner {
  // One holder per table, kept across resets (reset swaps its map), so bound lookups stay valid.
  const caches = new Map<StringTable, { map: Map<string, number> }>();
  const names = new Map<StringTable, Map<number, string>>();
  const stmts = new Map<StringTable, { ins: Database.Statement; sel: Database.Statement; byId: Database.Statement }>();

  const statements = (t: StringTable) => {
    let s = stmts.get(t);
    if (!s) {
      s = {
        ins: db.prepare(`INSERT OR IGNORE INTO ${t}_by_id (name) VALUES (?)`),
        sel: db.prepare(`SELECT id FROM ${t}_by_id WHERE name = ?`).pluck(),
        byId: db.prepare(`SELECT name FROM ${t}_by_id WHERE id = ?`).pluck(),
      };
      stmts.set(t, s);
    }
    return s;
  };
  const holder = (t: StringTable): { map: Map<string, number> } => {
    let h = caches.get(t);
    if (!h) caches.set(t, (h = { map: new Map() }));
    return h;
  };
  const cache = (t: StringTable): Map<string, number> => {
    const h = holder(t);
    if (h.map.size > CACHE_CAP) h.map = new Map();
    return h.map;
  };
  const lookup = (t: StringTable, name: string): number | undefined => {
    const c = cache(t);
    const hit = c.get(name);
    if (hit !== undefined) return hit;
    const id = statements(t).sel.get(name) as number | undefined;
    if (id !== undefined) c.set(name, id);
    return id;
  };

  const miss = (t: StringTable, name: string): number => {
    // INSERT first: a new string costs one statement; an existing one an extra SELECT.
    const r = statements(t).ins.run(name);
    if (r.changes !== 1) return lookup(t, name)!;
    const id = Number(r.lastInsertRowid);
    cache(t).set(name, id);
    return id;
  };

  const interner: Interner = {
    id(t, name) {
      if (name === null || name === undefined || name === '') return 0;
      const hit = cache(t).get(name);
      return hit !== undefined ? hit : miss(t, name);
    },
    idIn(t) {
      const h = holder(t);
      return (name) => {
        if (name === null || name === undefined || name === '') return 0;
        const hit = h.map.get(name);
        return hit !== undefined ? hit : miss(t, name);
      };
    },
    lookup,
    name(t, id) {
      if (id === 0) return null;
      let m = names.get(t);
      if (!m || m.size > CACHE_CAP) names.set(t, (m = new Map()));
      let n = m.get(id);
      if (n === undefined) {
        n = statements(t).byId.get(id) as string | undefined;
        if (n === undefined) return null;
        m.set(id, n);
      }
      return n;
    },
    reset() {
      for (const h of caches.values()) h.map = new Map();
      names.clear();
    },
  };
  return interner;
}

/** Make sure every vocabulary word has a code (new words get new ids; old codes never move). */
export function seedVocabularies(db: Database.Database, intern: Interner): void {
  db.transaction(() => {
    for (const k of KINDS) intern.id('kinds', k);
    for (const c of CATEGORIES) intern.id('categories', c);
    for (const v of VERDICTS) intern.id('verdicts', v);
    for (const s of SEVERITIES) intern.id('severities', s);
    for (const t of EXCHANGE_TYPES) intern.id('types', t);
  })();
}
