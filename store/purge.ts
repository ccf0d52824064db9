/**
 * `purge --value V`: the right to erasure, for one value. Every spelling of V counts (any case,
 * any percent-encoding, a phone number in any grouping: redact.ts's scrubber), and so do its
 * identity-server v2 hashes for every pepper the capture holds (a lookup names a contact by that
 * hash; its answer files the Matrix id under it).
 * - findings of V (or of its hashes) are deleted, with the values, and the aggregates fixed;
 * - the exchanges that carried them lose their bodies and headers;
 * - every other place V still appears is rewritten (`[purged]`): paths, urls, host names, finding
 *   `where` paths, headers; a stored body that holds V without a finding (a WebSocket message, an
 *   unclassified upload) is deleted;
 * - then VACUUM rebuilds the file (no stale copy in a free page) and a TRUNCATE checkpoint empties
 *   the WAL, so the bytes are gone from the disk, not just unlinked.
 */
import type Database from 'better-sqlite3';
import { matrixIdentityHash } from '../rules/identity-hash.js';
import { createAggregateFixer, type GoneFinding } from './aggregates.js';
import { packDetails, unpack, unpackDetails } from './blobs.js';
import { createBodyDeleter } from './body-rows.js';
import type { Store } from './db.js';
import { createScrubber, keyedHash, scrubDeep } from './redact.js';

export interface PurgeReport {
  /** Findings deleted: of the value, of its spellings and of its identity-server hashes. */
  readonly findings: number;
  /** Exchanges that carried one of those findings: their bodies and headers were deleted. */
  readonly exchanges: number;
  /** Other rows where the value was written over: paths, urls, names, headers. */
  readonly rewritten: number;
  /** Stored bodies that held the value without a finding, deleted. */
  readonly bodies: number;
  /** Identity-server hashes of the value (one per pepper seen) that were looked for. */
  readonly hashes: number;
  /** false when another connection kept the WAL from being emptied (the process's next checkpoint does). */
  readonly compacted: boolean;
}

export const PURGED = '[purged]';

interface Hit extends GoneFinding {
  readonly exchange_id: number;
}

const PEPPER = /"(?:lookup_)?pepper"\s*:\s*"([^"\\]{1,200})"/g;
const PHONE = /^\+?[\d\s().\-/]{7,}$/;

/** Peppers the capture holds: hash_details answers and lookup bodies. */
function peppersSeen(db: Database.Database): Set<string> {
  const out = new Set<string>();
  for (const row of db.prepare('SELECT enc, data FROM blobs').iterate() as Iterable<{ enc: number; data: Buffer }>) {
    const text = unpack(row.enc, row.data).toString('utf8');
    if (!text.includes('pepper')) continue;
    for (const m of text.matchAll(PEPPER)) out.add(m[1]!);
  }
  return out;
}

/** The v2 lookup hashes of `value` (email lower-cased, phone as digits), base64url and base64. */
function identityHashes(value: string, peppers: Iterable<string>): string[] {
  const phone = PHONE.test(value.trim());
  const address = phone ? value.replace(/\D/g, '') : value.trim().toLowerCase();
  const medium = phone ? 'msisdn' : 'email';
  if (!phone && !address.includes('@')) return [];
  const out: string[] = [];
  for (const p of peppers) {
    const h = matrixIdentityHash(address, medium, p);
    out.push(h, h.replace(/-/g, '+').replace(/_/g, '/'));
  }
  return out;
}

export interface PurgeMatcher {
  /** The value and its identity-server hashes for every pepper in the store. */
  readonly spellings: readonly string[];
  readonly scrub: (s: string) => string;
  /** True when `s` carries one of the spellings, in any case or encoding. */
  readonly carries: (s: string | null) => boolean;
}

/** What counts as the value in this store (read before purging: the peppers may go with it). */
export function purgeMatcher(store: Store, value: string): PurgeMatcher {
  const spellings = [value, ...identityHashes(value, peppersSeen(store.db))];
  const scrub = createScrubber(spellings, PURGED);
  return { spellings, scrub, carries: (s) => s !== null && s !== '' && scrub(s) !== s };
}

/** `matcher`: one the caller read already (see purgeMatcher); read here otherwise. */
export function purgeValue(store: Store, value: string, matcher: PurgeMatcher = purgeMatcher(store, value)): PurgeReport {
  const { db } = store;
  const { spellings, scrub, carries: has } = matcher;

  // Redacted values are found by their keyed hash (of the value, its lower case, its hashes), or
  // by the hex hash the dashboard shows.
  const keyed: Buffer[] = [];
  if (store.redactKey) for (const v of new Set([...spellings, value.toLowerCase()])) keyed.push(keyedHash(store.redactKey, v));
  if (/^[0-9a-f]{64}$/i.test(value)) keyed.push(Buffer.from(value, 'hex'));
  const ids = new Set<number>();
  for (const row of db.prepare('SELECT id, shown FROM values_by_id WHERE redacted = 0').iterate() as Iterable<{ id: number; shown: string }>) {
    if (has(row.shown)) ids.add(row.id);
  }
  const byHash = db.prepare('SELECT id FROM values_by_id WHERE hash = ?').pluck();
  for (const h of keyed) {
    const id = byHash.get(h) as number | undefined;
    if (id !== undefined) ids.add(id);
  }
  const idList = JSON.stringify([...ids]);
  const fix = createAggregateFixer(db);
  let findings = 0;
  let exchanges = 0;
  let rewritten = 0;
  let bodies = 0;

  db.pragma('secure_delete = ON');
  try {
    db.transaction(() => {
      const hits = db.prepare(`SELECT f.exchange_id, f.kind_id, e.session_id, e.party_id, e.category_id, e.time
        FROM findings f JOIN exchanges e ON e.id = f.exchange_id
        WHERE f.value_id IN (SELECT value FROM json_each(?))`).all(idList) as Hit[];
      const carriers = [...new Set(hits.map((h) => h.exchange_id))];
      exchanges = carriers.length;
      findings = db.prepare('DELETE FROM findings WHERE value_id IN (SELECT value FROM json_each(?))').run(idList).changes;
      db.prepare('DELETE FROM values_by_id WHERE id IN (SELECT value FROM json_each(?))').run(idList);
      const perExchange = new Map<number, number>();
      for (const h of hits) perExchange.set(h.exchange_id, (perExchange.get(h.exchange_id) ?? 0) + 1);
      const dec = db.prepare('UPDATE exchanges SET finding_count = finding_count - ? WHERE id = ?');
      for (const [id, n] of perExchange) dec.run(n, id);
      createBodyDeleter(db)(carriers);
      db.prepare('DELETE FROM details WHERE exchange_id IN (SELECT value FROM json_each(?))').run(JSON.stringify(carriers));
      fix.findingsGone(hits);
      const timeline = db.prepare('UPDATE timeline SET leaks = leaks - ? WHERE minute = ? AND session_id = ? AND party_id = ?');
      for (const h of hits) timeline.run(1, Math.floor(h.time / 60000), h.session_id, h.party_id);

      rewritten = rewriteEverywhere(db, has, scrub);
      bodies = deleteBodiesHolding(db, has);
      // The triggers took the rewritten paths out of the search index as delete markers; merging
      // drops the old entries themselves, so no segment keeps the purged text's tokens.
      if (rewritten > 0) db.exec("INSERT INTO exchanges_text(exchanges_text) VALUES('optimize')");
    })();
  } finally {
    db.pragma('secure_delete = OFF');
    store.bumpEpoch();
  }
  return { findings, exchanges, rewritten, bodies, hashes: (spellings.length - 1) / 2, compacted: compact(db) };
}

/**
 * Rows, collected first then changed: a connection cannot write while a statement iterates. A
 * name (host, where) rewritten into one that exists already is merged into it.
 */
function rewriteEverywhere(db: Database.Database, has: (s: string | null) => boolean, scrub: (s: string) => string): number {
  let n = 0;
  const rows = (db.prepare('SELECT id, path, url FROM exchanges').all() as Array<{ id: number; path: string; url: string | null }>)
    .filter((r) => has(r.path) || has(r.url));
  const setPath = db.prepare('UPDATE exchanges SET path = ?, url = ? WHERE id = ?');
  for (const r of rows) setPath.run(scrub(r.path), r.url === null ? null : scrub(r.url), r.id);
  n += rows.length;

  for (const [table, column] of [['wheres_by_id', 'where_id'], ['hosts_by_id', 'host_id']] as const) {
    const names = (db.prepare(`SELECT id, name FROM ${table}`).all() as Array<{ id: number; name: string }>).filter((r) => has(r.name));
    const find = db.prepare(`SELECT id FROM ${table} WHERE name = ?`).pluck();
    const rename = db.prepare(`UPDATE ${table} SET name = ? WHERE id = ?`);
    const repoint = db.prepare(`UPDATE ${column === 'where_id' ? 'findings' : 'exchanges'} SET ${column} = ? WHERE ${column} = ?`);
    const drop = db.prepare(`DELETE FROM ${table} WHERE id = ?`);
    for (const r of names) {
      const name = scrub(r.name);
      const existing = find.get(name) as number | undefined;
      if (existing === undefined) rename.run(name, r.id);
      else (repoint.run(existing, r.id), drop.run(r.id));
    }
    n += names.length;
  }

  const details = db.prepare('SELECT exchange_id, data FROM details').all() as Array<{ exchange_id: number; data: Buffer }>;
  const setDetails = db.prepare('UPDATE details SET data = ? WHERE exchange_id = ?');
  for (const d of details) {
    const json = JSON.stringify(unpackDetails(d.data));
    if (!has(json)) continue;
    setDetails.run(packDetails(JSON.stringify(scrubDeep(unpackDetails(d.data), scrub))), d.exchange_id);
    n++;
  }
  return n;
}

/** Bodies whose bytes hold the value although no finding named it; their blobs go with them. */
function deleteBodiesHolding(db: Database.Database, has: (s: string | null) => boolean): number {
  const blobs: number[] = [];
  for (const b of db.prepare('SELECT id, enc, data FROM blobs').iterate() as Iterable<{ id: number; enc: number; data: Buffer }>) {
    if (has(unpack(b.enc, b.data).toString('utf8'))) blobs.push(b.id);
  }
  const delBodies = db.prepare('DELETE FROM bodies WHERE blob_id = ?');
  const delBlob = db.prepare('DELETE FROM blobs WHERE id = ?');
  let n = 0;
  for (const id of blobs) {
    n += delBodies.run(id).changes;
    delBlob.run(id);
  }
  return n;
}

/** VACUUM (no free page keeps a stale copy), then fold and empty the WAL. */
function compact(db: Database.Database): boolean {
  try {
    db.exec('VACUUM');
    const r = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
    return r[0]?.busy === 0;
  } catch {
    // Another connection is writing right now: its next checkpoint folds the WAL.
    return false;
  }
}
