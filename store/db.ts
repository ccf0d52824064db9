/**
 * The store: one SQLite file (`<data-dir>/leakwatch.db`), 0600, WAL. Only store/ touches SQLite;
 * everything else goes through the recorder (writes) and store/queries.ts (reads).
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { createInterner, seedVocabularies, type Interner } from './intern.js';
import { migrate } from './migrations.js';
import { purgeValue, type PurgeMatcher, type PurgeReport } from './purge.js';

export const DB_FILE = 'leakwatch.db';
export const dbPath = (dataDir: string): string => join(dataDir, DB_FILE);

export interface StoreOptions {
  /** How long a statement waits for a lock held by another connection (ms). Default 5000. */
  readonly busyTimeoutMs?: number;
  /** The install's redaction key: lets purgeValue match values by their keyed hash. */
  readonly redactKey?: Buffer;
  /** Stop the migration ladder at this version (tests of each step). */
  readonly migrateTo?: number;
}

export interface SessionInfo {
  readonly id: number;
  readonly name: string;
}

export interface Store {
  readonly file: string;
  /** For store/ modules only. */
  readonly db: Database.Database;
  readonly intern: Interner;
  readonly redactKey: Buffer | null;
  /**
   * Bumped when rows that writers cache ids of are deleted (purge, retention), so writers on this
   * connection drop their caches; other connections notice through PRAGMA data_version.
   */
  readonly epoch: number;
  bumpEpoch(): void;
  /**
   * Open (or reuse, when the name exists) a session. null names it after the current time,
   * e.g. `2025-06-01T12-00-00Z`.
   */
  openSession(name: string | null): SessionInfo;
  /** Highest recorded exchange id (0 when empty): the proxy continues numbering from here. */
  maxExchangeId(): number;
  /**
   * Delete every finding of a value (given raw, or as the hex keyed hash shown for redacted
   * values), the bodies and headers of the exchanges that carried it, every other trace of it
   * (purge.ts), fix the aggregates and compact the file. Says what it removed.
   */
  purgeValue(value: string, matcher?: PurgeMatcher): PurgeReport;
  close(): void;
}

/** Create the file 0600 before SQLite opens it, so it is never readable by others, even briefly. */
function createPrivateFile(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

export function openStore(file: string, opts: StoreOptions = {}): Store {
  if (file !== ':memory:') createPrivateFile(file);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // Set explicitly: the connection that switches a file to WAL otherwise stays FULL, an fsync per commit.
  db.pragma('synchronous = NORMAL');
  db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
  db.pragma('cache_size = -16000');
  db.pragma('temp_store = MEMORY');
  // Checkpoint every ~40 MB of WAL, not SQLite's 4 MB: the recorder's hot index pages are copied
  // back once per checkpoint instead of ten times (+17% ingest); close() still folds the WAL back.
  db.pragma('wal_autocheckpoint = 10000');
  migrate(db, opts.migrateTo);
  const intern = createInterner(db);
  if (opts.migrateTo === undefined) seedVocabularies(db, intern);

  const insSession = db.prepare('INSERT OR IGNORE INTO sessions_by_id (name, started_at) VALUES (?, ?)');
  const selSession = db.prepare('SELECT id FROM sessions_by_id WHERE name = ?').pluck();
  const maxId = db.prepare('SELECT max(id) FROM exchanges').pluck();

  let epoch = 0;
  const store: Store = {
    get epoch() {
      return epoch;
    },
    bumpEpoch() {
      epoch++;
      intern.reset();
    },
    file,
    db,
    intern,
    redactKey: opts.redactKey ?? null,
    openSession(name) {
      const label = name ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
      insSession.run(label, Date.now());
      return { id: selSession.get(label) as number, name: label };
    },
    maxExchangeId: () => (maxId.get() as number | null) ?? 0,
    purgeValue: (value, matcher) => purgeValue(store, value, matcher),
    close() {
      if (!db.open) return;
      // Fold the WAL back so the file is self-contained after a clean shutdown.
      try {
        db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // A busy reader elsewhere: the next open checkpoints.
      }
      db.close();
    },
  };
  return store;
}
