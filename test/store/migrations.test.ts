import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../store/db.js';
import { migrate, MIGRATIONS, SCHEMA_VERSION, schemaVersion } from '../../store/migrations.js';
import { tempDir } from './fixtures.js';

const tables = (db: Database.Database): string[] =>
  db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name").pluck().all() as string[];

describe('migrations', () => {
  let cleanup = (): void => {};
  afterEach(() => cleanup());

  it.each(MIGRATIONS.map((_, i) => i + 1))('step to v%i applies from an empty file', (target) => {
    const t = tempDir();
    cleanup = t.cleanup;
    const db = new Database(join(t.dir, 'x.db'));
    expect(migrate(db, target)).toBe(target);
    expect(schemaVersion(db)).toBe(target);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const names = tables(db);
    if (target >= 1) expect(names).toEqual(expect.arrayContaining(['exchanges', 'findings', 'hosts_by_id', 'values_by_id', 'bodies']));
    if (target >= 2) expect(names).toEqual(expect.arrayContaining(['summary', 'timeline']));
    if (target >= 3) expect(names).toEqual(expect.arrayContaining(['exchanges_v', 'findings_v', 'summary_v']));
    // Re-running is a no-op, and the next step still applies on top.
    expect(migrate(db, target)).toBe(target);
    expect(migrate(db)).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('v2 backfills the aggregates from rows written at v1', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const db = new Database(join(t.dir, 'x.db'));
    migrate(db, 1);
    db.exec(`INSERT INTO exchanges VALUES (1, 120000, 5, 1, 1, 1, 'GET', 'https', 1, 443, '/', NULL, 200, 0, 1, 7, 3, 5, 1, 0, 2);
      INSERT INTO findings (exchange_id, kind_id, value_id, where_id, method_id) VALUES (1, 4, 1, 1, 1), (1, 4, 2, 1, 1);`);
    migrate(db, 2);
    expect(db.prepare('SELECT session_id, party_id, category_id, kind_id, count, first_seen, last_seen FROM summary').all())
      .toEqual([{ session_id: 1, party_id: 7, category_id: 3, kind_id: 4, count: 2, first_seen: 120000, last_seen: 120000 }]);
    expect(db.prepare('SELECT * FROM timeline').all()).toEqual([{ minute: 2, session_id: 1, party_id: 7, flows: 1, leaks: 2 }]);
    db.close();
  });

  it('refuses a file from a newer leakwatch', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const db = new Database(join(t.dir, 'x.db'));
    migrate(db);
    db.prepare("UPDATE meta SET value = '999' WHERE key = 'schema_version'").run();
    expect(() => migrate(db)).toThrow(/newer/);
    db.close();
  });

  it('openStore: 0600 file, WAL, synchronous NORMAL, full ladder, vocabularies seeded', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const file = join(t.dir, 'leakwatch.db');
    const store = openStore(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1);
    expect(schemaVersion(store.db)).toBe(SCHEMA_VERSION);
    expect(store.db.prepare('SELECT count(*) FROM kinds_by_id').pluck().get()).toBeGreaterThanOrEqual(26);
    const s1 = store.openSession('pixel-7 element 1.11');
    expect(store.openSession('pixel-7 element 1.11')).toEqual(s1);
    expect(store.openSession(null).name).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z$/);
    expect(store.maxExchangeId()).toBe(0);
    store.close();
    // Reopening keeps codes stable and the version.
    const again = openStore(file);
    expect(again.intern.lookup('kinds', 'email')).toBe(1);
    again.close();
  });
});

describe('migration v6 (findings clustered by exchange)', () => {
  it('keeps every finding, in its order within the exchange, and drops the two indexes it replaces', () => {
    const t = tempDir();
    const db = new Database(join(t.dir, 'x.db'));
    try {
      migrate(db, 5);
      db.exec(`INSERT INTO kinds_by_id (id, name) VALUES (1, 'email'), (2, 'mxid');
        INSERT INTO wheres_by_id (id, name) VALUES (1, 'q');
        INSERT INTO fmethods_by_id (id, name) VALUES (1, 'structural');
        INSERT INTO values_by_id (id, hash, shown, redacted) VALUES (1, x'01', 'a@x.org', 0), (2, x'02', '@b:x.org', 0), (3, x'03', 'c@x.org', 0);
        INSERT INTO findings (id, exchange_id, kind_id, value_id, where_id, method_id) VALUES
          (10, 7, 2, 2, 1, 1), (11, 8, 1, 3, 1, 1), (12, 7, 1, 1, 1, 1), (13, 7, 1, 3, 1, 1);`);
      migrate(db, 6);
      const rows = (ex: number) => db.prepare('SELECT kind, value FROM findings_v WHERE exchange_id = ? ORDER BY id').all(ex);
      expect(rows(7)).toEqual([{ kind: 'mxid', value: '@b:x.org' }, { kind: 'email', value: 'a@x.org' }, { kind: 'email', value: 'c@x.org' }]);
      expect(rows(8)).toEqual([{ kind: 'email', value: 'c@x.org' }]);
      const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'findings' AND sql IS NOT NULL").pluck().all();
      expect(indexes).toEqual(['findings_value']);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
      t.cleanup();
    }
  });
});
