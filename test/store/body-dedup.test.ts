import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ENC_DEFLATE, pack } from '../../store/blobs.js';
import { openStore } from '../../store/db.js';
import { migrate } from '../../store/migrations.js';
import { createQueries } from '../../store/queries.js';
import { retentionPass } from '../../store/retention.js';
import { audit, exchange, finding, item, recorder, tempDir, tempStore } from './fixtures.js';

const DAY = 86_400_000;
const NOW = 1_700_000_000_000 + 100 * DAY;
/** A response worth deflating, the same bytes every time (a repeated API response). */
const BIG = JSON.stringify(Array.from({ length: 3000 }, (_, i) => ({ user: `@u${i}:example.org`, n: i })));
const count = (db: Database.Database, table: string): number => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;

describe('content-addressed bodies', () => {
  let t: ReturnType<typeof tempStore>;
  let cleanup = (): void => {};
  afterEach(() => {
    t?.cleanup();
    cleanup();
  });

  it('identical bodies are stored once; every exchange reads its body back', async () => {
    t = tempStore();
    const r = recorder(t.store, { storeBodies: 'all' });
    for (let i = 1; i <= 10; i++) r.stage.run(item(exchange(i, { resBody: BIG, reqBody: `{"n":${i % 2}}` }), audit([finding('email', 'a@b.org')])));
    await r.close();
    // Ten responses (one blob), requests {"n":0} / {"n":1} (two blobs).
    expect(count(t.store.db, 'bodies')).toBe(20);
    expect(count(t.store.db, 'blobs')).toBe(3);
    const stored = t.store.db.prepare('SELECT enc, length(data) AS len FROM blobs ORDER BY length(data) DESC LIMIT 1').get() as { enc: number; len: number };
    expect(stored.enc).toBe(ENC_DEFLATE);
    expect(stored.len).toBeLessThan(BIG.length / 3);
    const q = createQueries(t.store);
    for (let i = 1; i <= 10; i++) {
      const f = q.getFlow(i)!;
      expect(f.response?.body?.bytes.toString()).toBe(BIG);
      expect(f.request.body?.bytes.toString()).toBe(`{"n":${i % 2}}`);
    }
  });

  it('bodies that differ only between the sampled bytes are two blobs', async () => {
    t = tempStore();
    const a = Buffer.from(BIG);
    const b = Buffer.from(BIG);
    b[5] = b[5]! ^ 1; // not one of the fingerprint's sample positions
    const r = recorder(t.store, { storeBodies: 'all' });
    r.stage.run(item(exchange(1, { resBody: a.toString('latin1') }), audit([finding('email', 'a@b.org')])));
    r.stage.run(item(exchange(2, { resBody: b.toString('latin1') }), audit([finding('email', 'a@b.org')])));
    r.stage.run(item(exchange(3, { resBody: a.toString('latin1') }), audit([finding('email', 'a@b.org')])));
    await r.close();
    expect(count(t.store.db, 'blobs')).toBe(2);
    const q = createQueries(t.store);
    expect(q.getFlow(1)!.response?.body?.bytes.equals(a)).toBe(true);
    expect(q.getFlow(2)!.response?.body?.bytes.equals(b)).toBe(true);
    expect(q.getFlow(3)!.response?.body?.bytes.equals(a)).toBe(true);
  });

  it('purge keeps a blob another exchange still uses, and deletes it with the last one', async () => {
    t = tempStore();
    const r = recorder(t.store, { storeBodies: 'all' });
    r.stage.run(item(exchange(1, { resBody: BIG }), audit([finding('email', 'one@x.org')])));
    r.stage.run(item(exchange(2, { resBody: BIG }), audit([finding('email', 'two@x.org')])));
    await r.close();
    const q = createQueries(t.store);
    t.store.purgeValue('one@x.org');
    expect(q.getFlow(1)!.response?.body).toBeNull();
    expect(q.getFlow(2)!.response?.body?.bytes.toString()).toBe(BIG);
    expect(count(t.store.db, 'blobs')).toBe(1);
    t.store.purgeValue('two@x.org');
    expect(q.getFlow(2)!.response?.body).toBeNull();
    expect(count(t.store.db, 'bodies')).toBe(0);
    expect(count(t.store.db, 'blobs')).toBe(0);
  });

  it('retention deletes blobs only the expired exchanges used', async () => {
    t = tempStore();
    const r = recorder(t.store, { storeBodies: 'all' });
    r.stage.run(item(exchange(1, { time: NOW - 40 * DAY, resBody: BIG, reqBody: 'old only' }), audit([finding('email', 'a@x.org')])));
    r.stage.run(item(exchange(2, { time: NOW, resBody: BIG }), audit([finding('email', 'a@x.org')])));
    await r.close();
    expect(count(t.store.db, 'blobs')).toBe(2);
    expect(retentionPass(t.store, NOW - 30 * DAY)).toBe(1);
    expect(count(t.store.db, 'blobs')).toBe(1);
    expect(createQueries(t.store).getFlow(2)!.response?.body?.bytes.toString()).toBe(BIG);
  });

  it('a writer re-stores a body whose blob was deleted under it (cached id not trusted)', async () => {
    t = tempStore();
    const r = recorder(t.store, { storeBodies: 'all', thread: 'inline' });
    r.stage.run(item(exchange(1, { resBody: BIG }), audit([finding('email', 'gone@x.org')])));
    await r.flush();
    t.store.purgeValue('gone@x.org');
    expect(count(t.store.db, 'blobs')).toBe(0);
    r.stage.run(item(exchange(2, { resBody: BIG }), audit([finding('email', 'b@x.org')])));
    await r.close();
    expect(createQueries(t.store).getFlow(2)!.response?.body?.bytes.toString()).toBe(BIG);
  });

  it('v5 moves v4 bodies into blobs, deduplicated, readable as before', () => {
    const d = tempDir();
    cleanup = d.cleanup;
    const file = join(d.dir, 'leakwatch.db');
    const db = new Database(file);
    migrate(db, 4);
    const insEx = db.prepare(`INSERT INTO exchanges VALUES (?, 120000, 5, 1, 1, 1, 'GET', 'https', 1, 443, '/', NULL, 200, 0, 0, 0, 0, 0, 0, 0, 0)`);
    const insBody = db.prepare('INSERT INTO bodies (key, enc, size, truncated, data) VALUES (?, ?, ?, ?, ?)');
    const big = pack(Buffer.from(BIG));
    const noise = randomBytes(3000);
    for (const id of [1, 2, 3]) {
      insEx.run(id);
      insBody.run(id * 4 + 2, big.enc, BIG.length, 0, big.data);
    }
    insBody.run(1 * 4 + 1, 0, 5000, 1, noise);
    db.close();
    const store = openStore(file);
    try {
      expect(count(store.db, 'bodies')).toBe(4);
      expect(count(store.db, 'blobs')).toBe(2);
      const q = createQueries(store);
      for (const id of [1, 2, 3]) expect(q.getFlow(id)!.response?.body?.bytes.toString()).toBe(BIG);
      expect(q.getFlow(1)!.request.body).toEqual({ bytes: noise, size: 5000, truncated: true });
      expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      store.close();
    }
  });
});
