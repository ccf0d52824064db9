import { afterEach, describe, expect, it } from 'vitest';
import { unpack } from '../../store/blobs.js';
import { createQueries } from '../../store/queries.js';
import { until } from '../helpers/until.js';
import { aggregateMismatch } from './consistency.js';
import { audit, exchange, finding, item, recorder, tempStore } from './fixtures.js';

const count = (t: ReturnType<typeof tempStore>, table: string): number =>
  t.store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('recorder', () => {
  let t: ReturnType<typeof tempStore>;
  afterEach(() => t?.cleanup());

  it('only enqueues on the caller turn; a batch lands within the flush window', async () => {
    t = tempStore();
    const r = recorder(t.store, { flushMs: 50 });
    await r.flush(); // waits for the writer thread to be up: what follows times the flush window, not its start-up
    for (let i = 1; i <= 10; i++) r.stage.run(item(exchange(i), audit([finding('email', 'a@b.org')])));
    expect(count(t, 'exchanges')).toBe(0);
    expect(r.stats().queued).toBe(10);
    await sleep(120);
    expect(count(t, 'exchanges')).toBe(10);
    expect(r.stats()).toMatchObject({ queued: 0, written: 10, dropped: 0, failures: 0, lastError: null });
    await r.close();
  });

  it('N enqueued -> N rows after flush, one transaction per batch, strings interned', async () => {
    t = tempStore();
    const r = recorder(t.store, { maxBatch: 100, flushMs: 10_000 });
    const N = 1234;
    for (let i = 1; i <= N; i++) {
      r.stage.run(item(exchange(i, { host: i % 2 ? 'vector.im' : 'matrix.org' }),
        audit([finding('email', 'alice@example.org'), finding('mxid', `@u${i % 5}:x.org`)], i % 2 ? 'vector.im' : 'matrix.org')));
    }
    // maxBatch reached: batches go out on the next turns without waiting for the 10 s timer.
    const t0 = Date.now();
    while (r.stats().written < 1200 && Date.now() - t0 < 2000) await sleep(5);
    expect(Date.now() - t0).toBeLessThan(1000);
    // Full batches went out; the remainder (34 < maxBatch) waits for the timer or an explicit flush.
    expect(r.stats()).toMatchObject({ written: 1200, queued: 34 });
    await r.flush();
    expect(count(t, 'exchanges')).toBe(N);
    expect(count(t, 'findings')).toBe(2 * N);
    expect(count(t, 'hosts_by_id')).toBe(2);
    expect(count(t, 'parties_by_id')).toBe(2);
    expect(count(t, 'values_by_id')).toBe(6);
    expect(aggregateMismatch(t.store)).toEqual({ summary: [], timeline: [] });
    expect(t.store.maxExchangeId()).toBe(N);
    await r.close();
  });

  it('bounded queue: drops are counted and never throw', async () => {
    t = tempStore();
    const r = recorder(t.store, { maxQueue: 100, maxBatch: 1000, flushMs: 10_000 });
    for (let i = 1; i <= 150; i++) expect(() => r.stage.run(item(exchange(i)))).not.toThrow();
    expect(r.stats()).toMatchObject({ queued: 100, dropped: 50 });
    await r.flush();
    expect(count(t, 'exchanges')).toBe(100);
    await r.close();
  });

  it('close() flushes everything (SIGTERM path), then refuses new items', async () => {
    t = tempStore();
    const r = recorder(t.store, { flushMs: 10_000 });
    for (let i = 1; i <= 777; i++) r.stage.run(item(exchange(i)));
    await r.close();
    expect(count(t, 'exchanges')).toBe(777);
    r.stage.run(item(exchange(778)));
    expect(r.stats()).toMatchObject({ written: 777, dropped: 1 });
  });

  it('degraded disk: failures counted, stage keeps accepting, recording resumes', async () => {
    t = tempStore();
    // max_page_count is per connection: this test fills the disk of the connection it holds, so
    // the write loop runs on it (the worker path meets a real full disk in e2e/degraded-disk).
    const r = recorder(t.store, { flushMs: 20, thread: 'inline' });
    r.stage.run(item(exchange(1)));
    await r.flush();
    const pages = t.store.db.pragma('page_count', { simple: true }) as number;
    t.store.db.pragma(`max_page_count = ${pages}`);
    const big = 'x'.repeat(20_000);
    for (let i = 2; i <= 200; i++) {
      expect(() => r.stage.run(item(exchange(i, { reqBody: big }), audit([finding('email', `u${i}@x.org`)])))).not.toThrow();
    }
    await until(() => r.stats().failures > 0, { timeoutMs: 5000, what: 'a failed batch' });
    const s = r.stats();
    expect(s.failures).toBeGreaterThan(0);
    expect(s.lastError).toMatch(/SQLITE_FULL/);
    expect(s.queued).toBe(199);
    expect(count(t, 'exchanges')).toBe(1);
    t.store.db.pragma('max_page_count = 1073741823');
    await until(() => count(t, 'exchanges') === 200, { timeoutMs: 10_000, what: 'the queued rows once the disk has room' });
    expect(r.stats()).toMatchObject({ queued: 0, written: 200, lastError: null });
    expect(aggregateMismatch(t.store)).toEqual({ summary: [], timeline: [] });
    await r.close();
  });

  it('a row SQLite refuses (duplicate id) is dropped alone, the rest of the batch is written', async () => {
    t = tempStore();
    const r = recorder(t.store, { flushMs: 10_000 });
    r.stage.run(item(exchange(5)));
    await r.flush();
    for (const id of [4, 5, 6]) r.stage.run(item(exchange(id), audit([finding('email', 'a@b.org')])));
    await r.flush();
    expect(count(t, 'exchanges')).toBe(3);
    expect(r.stats()).toMatchObject({ written: 3, dropped: 1, queued: 0 });
    expect(aggregateMismatch(t.store)).toEqual({ summary: [], timeline: [] });
    await r.close();
  });

  it('bodies: leaks policy keeps bodies of exchanges with findings only; cap applies', async () => {
    t = tempStore();
    const r = recorder(t.store, { bodyCap: 100 });
    r.stage.run(item(exchange(1, { reqBody: 'y'.repeat(1000) }), audit([finding('email', 'a@b.org')])));
    r.stage.run(item(exchange(2, { reqBody: 'z'.repeat(1000) })));
    await r.close();
    const rows = (t.store.db.prepare(`SELECT key, size, truncated, b.enc, b.data FROM bodies o
      JOIN blobs b ON b.id = o.blob_id ORDER BY key`).all() as Array<{ key: number; size: number; truncated: number; enc: number; data: Buffer }>)
      // The stored bytes, inflated: the cap is on what is kept, not on its compressed size.
      .map(({ enc, data, ...row }) => ({ ...row, len: unpack(enc, data).length }));
    expect(rows).toEqual([
      { key: 5, size: 1000, truncated: 1, len: 100 },
      { key: 6, size: 11, truncated: 0, len: 11 },
    ]);
  });

  it('big bodies cross to the worker by transfer of a copy: the caller keeps its buffers intact', async () => {
    t = tempStore();
    const r = recorder(t.store, { storeBodies: 'all', bodyCap: 64 * 1024 });
    const own = Buffer.from(new Uint8Array(50_000).map((_, i) => i % 251));
    const pool = Buffer.alloc(200_000, 7);
    const slice = pool.subarray(1000, 101_000); // a view into a larger buffer, over the cap
    const ex = exchange(1);
    const sent = { ...ex, request: { ...ex.request, body: { bytes: own, size: own.length, truncated: false } },
      response: { ...ex.response!, body: { bytes: slice, size: slice.length, truncated: false } } };
    r.stage.run(item(sent, audit([finding('email', 'a@b.org')])));
    await r.flush();
    expect(own.length).toBe(50_000);
    expect(own[250]).toBe(250);
    expect(pool.length).toBe(200_000);
    expect(slice.length).toBe(100_000);
    expect(slice[99_999]).toBe(7);
    await r.close();
    const f = createQueries(t.store).getFlow(1)!;
    expect(f.request.body?.bytes.equals(own)).toBe(true);
    expect(f.response?.body).toMatchObject({ size: 100_000, truncated: true });
    expect(f.response?.body?.bytes.equals(slice.subarray(0, 64 * 1024))).toBe(true);
  });
});
