import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCommand } from '../../cli/export.js';
import { ConfigError } from '../../core/errors.js';
import type { Exchange } from '../../core/exchange.js';
import { harToExchanges } from '../../core/har.js';
import { csvField } from '../../store/export.js';
import { audit, exchange, finding, item, recorder, tempStore } from './fixtures.js';
import { harValidator } from './har-schema.js';

const T0 = Date.parse('2025-03-01T00:00:00Z');

/** A Writable that collects everything and pushes back now and then (backpressure is exercised). */
function sink(): { out: Writable; text: () => string } {
  const chunks: string[] = [];
  const out = new Writable({ highWaterMark: 64, write(c, _e, cb) { chunks.push(String(c)); setImmediate(cb); } });
  return { out, text: () => chunks.join('') };
}

async function run(dataDir: string, format: string, extra: { since?: string; session?: string } = {}): Promise<string> {
  const s = sink();
  await exportCommand({ dataDir, format, out: s.out, ...extra });
  return s.text();
}

describe('export', () => {
  let t: ReturnType<typeof tempStore>;
  const input: Exchange[] = [];
  beforeAll(async () => {
    t = tempStore();
    const r = recorder(t.store, { storeBodies: 'all' });
    for (let i = 1; i <= 1200; i++) {
      const ex = exchange(i, { time: T0 + i * 1000, reqBody: i % 2 ? JSON.stringify({ address: `u${i}@x.org` }) : '',
        headers: [['Host', 'vector.im'], ['X-Note', 'comma, "quoted"\nline']] });
      input.push(ex);
      r.stage.run(item(ex, i % 2 ? audit([finding('email', `u${i}@x.org`), finding('user_agent', 'Element, "1"')]) : audit([])));
    }
    await r.close();
    const s2 = t.store.openSession('other');
    const r2 = recorder(t.store, { sessionId: s2.id });
    r2.stage.run(item(exchange(2000, { time: T0 + 5_000_000 })));
    await r2.close();
    t.store.close();
  });
  afterAll(() => t.cleanup());

  it('jsonl: one line per exchange in the exchange-json shape', async () => {
    const lines = (await run(t.dir, 'jsonl')).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1201);
    expect(lines[0]).toEqual({ id: 1, time: new Date(T0 + 1000).toISOString(), session: 'test', method: 'POST',
      url: 'https://vector.im/_matrix/identity/v2/lookup?n=1', status: 200, category: 'identity-server', party: 'vector.im',
      rule: 'vector.im/rule', severity: 'high', verdict: 'allow',
      leaks: [{ kind: 'email', value: 'u1@x.org', where: 'request.body.x', method: 'structural' },
        { kind: 'user_agent', value: 'Element, "1"', where: 'request.body.x', method: 'structural' }] });
    expect(lines[1].leaks).toEqual([]);
  });

  it('--since and --session filter; bad values are one-line ConfigErrors', async () => {
    const since = (await run(t.dir, 'jsonl', { since: new Date(T0 + 1_150_000).toISOString() })).trimEnd().split('\n');
    expect(since).toHaveLength(52); // 1150..1200 and the other session's 2000
    expect((await run(t.dir, 'jsonl', { session: 'other' })).trimEnd().split('\n').map((l) => JSON.parse(l).id)).toEqual([2000]);
    expect((await run(t.dir, 'jsonl', { session: '1', since: '2025-03-01T00:19:50Z' })).trimEnd().split('\n')).toHaveLength(11);
    await expect(run(t.dir, 'jsonl', { since: 'yesterday' })).rejects.toThrow(ConfigError);
    await expect(run(t.dir, 'jsonl', { since: 'yesterday' })).rejects.toThrow(/^--since: "yesterday" is not an ISO 8601/);
    await expect(run(t.dir, 'jsonl', { since: '2025-13-45' })).rejects.toThrow(ConfigError);
    await expect(run(t.dir, 'jsonl', { session: 'nope' })).rejects.toThrow(/--session: no session "nope"/);
    await expect(run(t.dir, 'xml')).rejects.toThrow(/--format: "xml"/);
  });

  it('csv: one row per finding (or one per exchange without findings), RFC 4180 quoting', async () => {
    const text = await run(t.dir, 'csv');
    const rows = text.split('\r\n');
    expect(rows[0]).toBe('id,time,session,method,url,status,category,party,rule,severity,verdict,kind,value,where,finding_method');
    expect(rows[1]).toBe(`1,${new Date(T0 + 1000).toISOString()},test,POST,https://vector.im/_matrix/identity/v2/lookup?n=1,200,identity-server,vector.im,vector.im/rule,high,allow,email,u1@x.org,request.body.x,structural`);
    expect(rows[2]).toContain(',user_agent,"Element, ""1""",');
    expect(rows[3]).toMatch(/^2,.*,none,allow,,,,$/);
    expect(rows.length - 2).toBe(600 * 2 + 600 + 1);
    expect(csvField('a\nb')).toBe('"a\nb"');
    expect(csvField(null)).toBe('');
  });

  it('har: valid HAR 1.2, and harToExchanges gives back the recorded exchanges', async () => {
    const har = JSON.parse(await run(t.dir, 'har'));
    expect(harValidator()(har)).toBeNull();
    expect(har.log.entries).toHaveLength(1201);
    expect(har.log.entries[0]._leaks).toHaveLength(2);
    expect(har.log.entries[0]._leakwatch).toMatchObject({ id: 1, party: 'vector.im', session: 'test' });
    const { exchanges, errors } = harToExchanges(har);
    expect(errors).toEqual([]);
    for (const i of [0, 1, 599, 1199]) {
      const got = exchanges[i]!;
      const want = input[i]!;
      expect([got.request.method, got.request.url, got.request.headers]).toEqual([want.request.method, want.request.url, want.request.headers]);
      expect(got.request.body.bytes.toString()).toBe(want.request.body.bytes.toString());
      expect(got.response?.body.bytes.toString()).toBe(i % 2 === 0 ? '{"ok":true}' : '{"ok":true}');
    }
  });
});
