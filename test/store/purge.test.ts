import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { purgeCommand } from '../../cli/purge.js';
import { openStore } from '../../store/db.js';
import { createQueries } from '../../store/queries.js';
import { keyedHash, loadOrCreateRedactKey } from '../../store/redact.js';
import { aggregateMismatch } from './consistency.js';
import { audit, exchange, finding, item, KEY, recorder, tempStore } from './fixtures.js';

const EMAIL = 'bob.secret@example.org';
const OTHER = 'carol@example.org';

async function fill(t: ReturnType<typeof tempStore>, redact = false, key: Buffer = KEY): Promise<void> {
  const r = recorder(t.store, { redact, redactKey: key, storeBodies: 'all' });
  for (let i = 1; i <= 30; i++) {
    const mine = i % 3 === 0;
    r.stage.run(item(
      exchange(i, { path: mine ? `/lookup?a=${encodeURIComponent(EMAIL)}` : '/lookup', reqBody: JSON.stringify({ a: mine ? EMAIL : OTHER }),
        time: 1_700_000_000_000 + i * 20_000 }),
      audit(mine ? [finding('email', EMAIL), finding('mxid', '@bob:x.org')] : [finding('email', OTHER)], i % 2 ? 'vector.im' : 'matrix.org'),
    ));
  }
  await r.close();
}

const bytesOf = (file: string): Buffer =>
  Buffer.concat([file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f)));

describe('purge', () => {
  let t: ReturnType<typeof tempStore>;
  afterEach(() => t?.cleanup());

  it('deletes every finding of a raw value, its bodies and headers, and the bytes', async () => {
    t = tempStore();
    await fill(t);
    expect(t.store.purgeValue(EMAIL)).toMatchObject({ findings: 10, exchanges: 10, compacted: true });
    const q = createQueries(t.store);
    expect(q.listFlows({ q: EMAIL })).toEqual([]);
    const total = (kind: string) => q.summary().filter((c) => c.kind === kind).reduce((a, c) => a + c.count, 0);
    expect(total('email')).toBe(20);
    expect(total('mxid')).toBe(10);
    const flow = q.getFlow(3)!;
    expect(flow.findings.map((f) => f.kind)).toEqual(['mxid']);
    expect(flow.leakCount).toBe(1);
    expect(flow.request.body).toBeNull();
    expect(flow.hasDetails).toBe(false);
    expect(flow.path).toBe('/lookup?a=[purged]');
    expect(q.getFlow(1)!.request.body).not.toBeNull();
    expect(aggregateMismatch(t.store)).toEqual({ summary: [], timeline: [] });
    expect(q.health()).toMatchObject({ exchanges: 30, findings: 30 });
    expect(bytesOf(t.file).includes(Buffer.from(EMAIL))).toBe(false);
    expect(bytesOf(t.file).includes(Buffer.from(OTHER))).toBe(true);
    expect(t.store.purgeValue(EMAIL)).toMatchObject({ findings: 0, rewritten: 0, bodies: 0 });
  });

  it('redacted captures: purge by raw value (keyed hash) or by the hex hash', async () => {
    t = tempStore();
    await fill(t, true);
    expect(t.store.purgeValue(keyedHash(KEY, OTHER).toString('hex')).findings).toBe(20);
    expect(t.store.purgeValue(EMAIL).findings).toBe(10);
    expect(new Set(createQueries(t.store).summary().map((c) => c.kind))).toEqual(new Set(['mxid']));
    expect(aggregateMismatch(t.store)).toEqual({ summary: [], timeline: [] });
  });

  it('purgeCommand uses the install key from the data dir', async () => {
    t = tempStore();
    const key = loadOrCreateRedactKey(t.dir);
    await fill(t, true, key);
    t.store.close();
    expect(await purgeCommand({ dataDir: t.dir, value: EMAIL })).toMatch(/^Purged: 10 findings deleted \(with the bodies and headers of 10 exchanges\)\. Database compacted/);
    expect(await purgeCommand({ dataDir: t.dir, value: EMAIL })).toMatch(/^Nothing held that value\./);
    await expect(purgeCommand({ dataDir: t.dir, value: '' })).rejects.toThrow(/--value/);
    await expect(purgeCommand({ dataDir: `${t.dir}/nope`, value: 'x' })).rejects.toThrow(/no recordings/);
    const again = openStore(t.file);
    expect(aggregateMismatch(again)).toEqual({ summary: [], timeline: [] });
    again.close();
  });

  it('a recorder on another connection keeps working after a purge deleted values it cached', async () => {
    t = tempStore();
    const r = recorder(t.store);
    r.stage.run(item(exchange(1), audit([finding('email', EMAIL)])));
    await r.flush();
    const other = openStore(t.file, { redactKey: KEY });
    expect(other.purgeValue(EMAIL).findings).toBe(1);
    other.close();
    r.stage.run(item(exchange(2), audit([finding('email', EMAIL)])));
    await r.close();
    expect(createQueries(t.store).getFlow(2)!.findings[0]!.value).toBe(EMAIL);
  });
});
