/**
 * Content-addressed bodies (schema v5): `blobs` holds each distinct body once, `bodies` rows point
 * at it. Writing a body already stored costs a SHA-256 and a lookup instead of a deflate and a
 * 100 KB row; deleting bodies (purge, retention) deletes a blob with the last body using it.
 */
import type Database from 'better-sqlite3';
import { blobHash, pack } from './blobs.js';

/** Recently written blobs remembered by hash (bounded: starts over when full). */
const CACHE_CAP = 4096;
/**
 * From this size a repeat is first looked for among the bytes of recent blobs, compared in full
 * (memcmp, ~5 us for 100 KB) before any hashing: SHA-256 of 100 KB costs ~80-120 us here, the
 * largest cost left of a repeated big response. A mismatch just takes the hashed path.
 */
const RECENT_MIN = 4096;
/** Bytes of recent bodies kept for that comparison (references to buffers the writer was given). */
const RECENT_BYTES = 8 * 1024 * 1024;

/**
 * Below this a body is its own cache key (exact, no hashing): a SHA-256 context costs ~5-10 us
 * even for 20 bytes, 10% of the worker's time per small exchange when every one was hashed.
 */
const SMALL = 1024;

/** Length and 8 samples of 4 bytes: equal for equal bodies, rarely equal otherwise. */
function fingerprint(b: Buffer): string {
  const n = b.length;
  let fp = `${n}`;
  for (let i = 0; i < 8; i++) fp += `:${b.readUInt32LE(Math.floor(((n - 4) * i) / 7))}`;
  return fp;
}

export interface BlobWriter {
  /** Id of the blob holding these bytes, storing (deflated when it helps) them if new. */
  id(bytes: Buffer): number;
  /** Forget cached ids (a rolled-back transaction, or blobs deleted by purge/retention). */
  reset(): void;
}

/** Call inside the writer's transaction: lookup and insert are then atomic. */
export function createBlobWriter(db: Database.Database): BlobWriter {
  const sel = db.prepare('SELECT id FROM blobs WHERE hash = ?').pluck();
  const ins = db.prepare('INSERT INTO blobs (hash, enc, data) VALUES (?, ?, ?)');
  let cache = new Map<string, number>();
  let recent = new Map<string, { readonly bytes: Buffer; readonly id: number }>();
  let recentBytes = 0;
  return {
    id(bytes) {
      // 's' + the bytes, or 'h' + the hash: the two kinds of key cannot collide.
      const small = bytes.length < SMALL ? 's' + bytes.toString('latin1') : null;
      if (small !== null) {
        const hit = cache.get(small);
        if (hit !== undefined) return hit;
      }
      const fp = bytes.length >= RECENT_MIN ? fingerprint(bytes) : null;
      if (fp !== null) {
        const r = recent.get(fp);
        if (r && r.bytes.equals(bytes)) return r.id;
      }
      const hash = blobHash(bytes);
      const key = small ?? 'h' + hash.toString('latin1');
      const hit = cache.get(key);
      if (hit !== undefined) return hit;
      let id = sel.get(hash) as number | undefined;
      if (id === undefined) {
        const p = pack(bytes);
        id = Number(ins.run(hash, p.enc, p.data).lastInsertRowid);
      }
      if (cache.size >= CACHE_CAP) cache = new Map();
      cache.set(key, id);
      if (fp !== null) {
        if (recentBytes + bytes.length > RECENT_BYTES) {
          recent = new Map();
          recentBytes = 0;
        }
        recent.set(fp, { bytes, id });
        recentBytes += bytes.length;
      }
      return id;
    },
    reset() {
      cache = new Map();
      recent = new Map();
      recentBytes = 0;
    },
  };
}

/**
 * Deletes the bodies of the given exchanges, then each blob they used that no body refers to any
 * more. Call inside the caller's transaction.
 */
export function createBodyDeleter(db: Database.Database): (exchangeIds: Iterable<number>) => void {
  const blobsOf = db.prepare('SELECT blob_id FROM bodies WHERE key BETWEEN ? AND ?').pluck();
  const del = db.prepare('DELETE FROM bodies WHERE key BETWEEN ? AND ?');
  const orphan = db.prepare('DELETE FROM blobs WHERE id = @b AND NOT EXISTS (SELECT 1 FROM bodies WHERE blob_id = @b)');
  return (exchangeIds) => {
    const blobs = new Set<number>();
    for (const id of exchangeIds) {
      // key = exchange id * 4 + part: one range per exchange covers its request, response and websocket data.
      for (const b of blobsOf.all(id * 4, id * 4 + 3) as number[]) blobs.add(b);
      del.run(id * 4, id * 4 + 3);
    }
    for (const b of blobs) orphan.run({ b });
  };
}
