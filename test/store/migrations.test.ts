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
