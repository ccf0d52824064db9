import { SCHEMA_VERSION } from '../../store/migrations.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Exchange } from '../../core/exchange.js';
import { createQueries, type Queries } from '../../store/queries.js';
import { aggregateMismatch } from './consistency.js';
import { audit, exchange, finding, item, recorder, tempStore } from './fixtures.js';

const T0 = 1_700_000_040_000; // a minute boundary

describe('queries', () => {
  let t: ReturnType<typeof tempStore>;
  let q: Queries;
  let sessionB: number;
  beforeAll(async () => {
    t = tempStore();
    const a = recorder(t.store, { storeBodies: 'all' });
    for (let i = 1; i <= 60; i++) {
      const host = i % 3 === 0 ? 'matrix.org' : 'vector.im';
      const party = i % 3 === 0 ? 'matrix.org' : 'vector.im';
      const fs = i % 4 === 0 ? [] : [finding('email', `user${i % 5}@example.org`), ...(i % 2 ? [finding('device_id', 'DEVICEABC')] : [])];
      a.stage.run(item(exchange(i, { host, time: T0 + i * 5000, reqBody: `{"n":${i}}` }), audit(fs, party, i % 3 === 0 ? 'federation' : 'identity-server')));
    }
    await a.close();
    sessionB = t.store.openSession('second').id;
    const b = recorder(t.store, { sessionId: sessionB });
    const ws: Exchange = { ...exchange(61, { time: T0 + 400_000 }), kind: 'websocket',
      websocket: { connectionId: 9, direction: 'send', binary: false, data: { bytes: Buffer.from('{"body":"hi"}'), size: 13, truncated: false } } };
    b.stage.run(item(ws, audit([finding('message_content', 'hi')], 'jitsi.example', 'conference')));
    await b.close();
    q = createQueries(t.store);
  });
  afterEach(() => undefined);

  it('lists newest first with an id cursor', () => {
    const page1 = q.listFlows({ limit: 25 });
    expect(page1.map((r) => r.id)).toEqual(Array.from({ length: 25 }, (_, i) => 61 - i));
    const page2 = q.listFlows({ limit: 25, before: page1[24]!.id });
    expect(page2[0]!.id).toBe(36);
    expect(q.listFlows({ limit: 1000 })).toHaveLength(61);
  });

  it('filters: time, session, party, category, kind, host, free text', () => {
    const ids = (f: Parameters<Queries['listFlows']>[0]) => q.listFlows({ limit: 1000, ...f }).map((r) => r.id).sort((a, b) => a - b);
    expect(ids({ since: T0 + 50_000, until: T0 + 100_000 })).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(ids({ session: sessionB })).toEqual([61]);
    expect(ids({ party: 'matrix.org' })).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 3));
    expect(ids({ category: 'conference' })).toEqual([61]);
    expect(ids({ kind: 'device_id' })).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, 33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 55, 57, 59]);
    expect(ids({ host: 'matrix.org', kind: 'device_id' })).toEqual([3, 9, 15, 21, 27, 33, 39, 45, 51, 57]);
    expect(ids({ q: 'USER3@example' })).toEqual([3, 13, 18, 23, 33, 38, 43, 53, 58]);
    expect(ids({ q: 'jitsi' })).toEqual([61]);
    expect(ids({ host: 'nowhere.example' })).toEqual([]);
    expect(ids({ q: '100%_' })).toEqual([]);
  });

  it('path text: the trigram index and the scan give the same rows, case-insensitive', () => {
    const ids = (text: string) => q.listFlows({ limit: 1000, q: text }).map((r) => r.id).sort((a, b) => a - b);
    const want = [3, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39];
    expect(ids('matrix/identity/v2/lookup?n=3')).toEqual(want); // the index (3+ characters, no wildcard)
    expect(ids('_matrix/identity/v2/LOOKUP?n=3')).toEqual(want); // '_' escapes in LIKE: the scan
    expect(ids('lookup?n=999')).toEqual([]);
    expect(q.countFlows({ q: 'lookup?n=3' })).toBe(want.length);
  });

  it('rows carry the documented fields', () => {
    const r = q.listFlows({ limit: 1, before: 4 })[0]!;
    expect(r).toEqual({ id: 3, time: T0 + 15000, durationMs: 5, sessionId: 1, session: 'test', type: 'http', client: '127.0.0.1',
      method: 'POST', url: 'https://matrix.org/_matrix/identity/v2/lookup?n=3', host: 'matrix.org', path: '/_matrix/identity/v2/lookup?n=3',
      status: 200, error: null, category: 'federation', party: 'matrix.org', rule: 'matrix.org/rule', severity: 'high', verdict: 'allow',
      kinds: ['email', 'device_id'], leakCount: 2, firstParty: false });
  });

  it('getFlow: findings, headers, bodies (decompressed), websocket', () => {
    const f = q.getFlow(1)!;
    expect(f.findings.map((x) => [x.kind, x.value, x.where])).toEqual([['email', 'user1@example.org', 'request.body.x'], ['device_id', 'DEVICEABC', 'request.body.x']]);
    expect(f.request.headers).toEqual([['Host', 'vector.im'], ['User-Agent', 'Element/1.0']]);
    expect(f.request.body?.bytes.toString()).toBe('{"n":1}');
    expect(f.response?.body?.bytes.toString()).toBe('{"ok":true}');
    const ws = q.getFlow(61)!;
    expect(ws.type).toBe('websocket');
    expect(ws.websocket).toMatchObject({ connectionId: 9, direction: 'send', binary: false });
    expect(ws.websocket?.data?.bytes.toString()).toBe('{"body":"hi"}');
    expect(q.getFlow(999)).toBeNull();
  });

  it('summary and timeline agree with the raw rows', () => {
    expect(aggregateMismatch(t.store)).toEqual({ summary: [], timeline: [] });
    const s = q.summary();
    const total = s.reduce((a, c) => a + c.count, 0);
    expect(total).toBe(t.store.db.prepare('SELECT count(*) FROM findings').pluck().get());
    const dev = s.find((c) => c.party === 'vector.im' && c.kind === 'device_id')!;
    expect(dev).toMatchObject({ category: 'identity-server', count: 20, firstSeen: T0 + 5000, lastSeen: T0 + 295000 });
    expect(q.summary({ session: sessionB })).toEqual([{ party: 'jitsi.example', category: 'conference', kind: 'message_content', count: 1,
      firstSeen: T0 + 400_000, lastSeen: T0 + 400_000 }]);
    const tl = q.timeline({ since: T0, until: T0 + 120_000 });
    expect(tl.map((p) => p.t)).toEqual([T0, T0, T0 + 60_000, T0 + 60_000]);
    expect(tl.reduce((a, p) => a + p.flows, 0)).toBe(23);
    const hourly = q.timeline({ bucketMs: 3_600_000 });
    expect(hourly.reduce((a, p) => a + p.flows, 0)).toBe(61);
    expect(q.timeline({ session: sessionB })).toEqual([{ t: T0 + 360_000, party: 'jitsi.example', flows: 1, leaks: 1 }]);
  });

  it('sessions and health', () => {
    expect(q.sessions()).toEqual([expect.objectContaining({ id: sessionB, name: 'second', flows: 1 }), expect.objectContaining({ id: 1, name: 'test', flows: 60 })]);
    expect(q.health()).toMatchObject({ schemaVersion: SCHEMA_VERSION, exchanges: 61, sessions: 2, oldest: T0 + 5000, newest: T0 + 400_000 });
    expect(q.health().fileBytes).toBeGreaterThan(0);
  });
});
