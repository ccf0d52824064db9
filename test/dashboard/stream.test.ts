import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Audit } from '../../core/audit.js';
import { createStreamStage } from '../../dashboard/stage.js';
import { exchange, startHarness, type Harness } from './harness.js';
import { openWs, raw, until } from './http.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const auth = (x: Harness) => ({ Authorization: `Bearer ${x.token}` });
const flowsOf = (frames: any[]) => frames.filter((f) => f.type === 'flows').flatMap((f) => f.items);

const AUDIT: Audit = {
  classification: { ruleId: 'test.rule', party: 'Test party', category: 'analytics', severity: 'high', action: 'log' },
  firstParty: false,
  findings: [{ kind: 'email', value: 'alice@example.org', where: 'request.body.email', method: 'structural' }],
  severity: 'high',
  verdict: 'allow',
  notes: [],
};

describe('the live stream', () => {
  it('delivers audited exchanges in 100 ms batches with the documented shape', async () => {
    h = await startHarness();
    const { ws, frames } = await openWs(h.base, '/api/stream', auth(h));
    await until(() => frames.some((f) => f.type === 'hello'));
    const ex = exchange();
    const t0 = Date.now();
    await h.send(ex);
    const [item] = await until(() => flowsOf(frames).length > 0 && flowsOf(frames));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(item).toMatchObject({
      id: ex.id, method: 'POST', url: ex.request.url, status: 200, category: 'identity-server', client: '127.0.0.1',
      host: 'vector.im', path: ex.request.path, type: 'http', rule: 'matrix.identity.validation.request-token', session: 'dash-test',
    });
    expect(item.kinds).toContain('email');
    expect(item.leaks).toContainEqual(expect.objectContaining({ kind: 'email', value: 'alice@example.org', where: 'request.body.email' }));
    expect(new Date(item.time).toISOString()).toBe(item.time);
    ws.close();
  });

  it('sends each batch as one text frame, the same to every client', async () => {
    h = await startHarness();
    const url = h.base.replace(/^http/, 'ws') + '/api/stream';
    const clients = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<{ ws: WebSocket; got: Array<{ text: string; binary: boolean }> }>((resolve, reject) => {
            const ws = new WebSocket(url, { headers: auth(h!) });
            const got: Array<{ text: string; binary: boolean }> = [];
            ws.on('message', (d, binary) => got.push({ text: d.toString(), binary }));
            ws.on('open', () => resolve({ ws, got }));
            ws.on('error', reject);
          }),
      ),
    );
    const stage = createStreamStage(h.dash.hub);
    for (let i = 0; i < 3; i++) stage.run({ exchange: exchange(), audit: AUDIT });
    h.dash.hub.flushNow();
    const flows = (got: Array<{ text: string; binary: boolean }>) => got.filter((m) => m.text.startsWith('{"type":"flows"'));
    await until(() => clients.every((c) => flows(c.got).length === 1));
    const [a, b] = clients.map((c) => flows(c.got)[0]!);
    expect(a!.binary).toBe(false);
    expect(b).toEqual(a);
    expect(JSON.parse(a!.text).items).toHaveLength(3);
    for (const c of clients) c.ws.close();
  });

  it('batches many exchanges into few frames, and publish() stays cheap', async () => {
    h = await startHarness();
    const { ws, frames } = await openWs(h.base, '/api/stream', auth(h));
    const stage = createStreamStage(h.dash.hub);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 2000; i++) stage.run({ exchange: exchange(), audit: AUDIT });
    const publishMs = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(publishMs).toBeLessThan(200);
    await until(() => flowsOf(frames).length === 2000);
    expect(frames.filter((f) => f.type === 'flows').length).toBeLessThanOrEqual(3);
    ws.close();
  });

  it('resumes from a last-seen id out of the ring, and from the store when the ring is too short', async () => {
    h = await startHarness({ stream: { ringSize: 3 } });
    const sent = [];
    for (let i = 0; i < 8; i++) {
      const ex = exchange();
      sent.push(ex.id);
      await h.send(ex);
    }
    h.dash.hub.flushNow();
    await h.recorder.flush();
    // In the ring: the last three.
    const a = await openWs(h.base, `/api/stream?since=${sent[5]}`, auth(h));
    await until(() => flowsOf(a.frames).length >= 2);
    expect(flowsOf(a.frames).map((f) => f.id)).toEqual(sent.slice(6));
    a.ws.close();
    // Older than the ring: the store fills in, no duplicates, oldest first.
    const b = await openWs(h.base, `/api/stream?since=${sent[1]}`, auth(h));
    await until(() => flowsOf(b.frames).length >= 6);
    expect(flowsOf(b.frames).map((f) => f.id)).toEqual(sent.slice(2));
    // Then it carries on live.
    const next = exchange();
    await h.send(next);
    await until(() => flowsOf(b.frames).some((f) => f.id === next.id));
    b.ws.close();
  });

  it('coalesces a slow client into a gap marker without slowing publishers', async () => {
    h = await startHarness({ stream: { softLimit: 64 * 1024, hardLimit: 1 << 30, slowMs: 60_000 } });
    const { ws, frames } = await openWs(h.base, '/api/stream', auth(h));
    await until(() => frames.length > 0);
    const sock = (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    sock.pause(); // the browser stops reading
    const stage = createStreamStage(h.dash.hub);
    const big = 'x'.repeat(64 * 1024);
    for (let round = 0; round < 40; round++) {
      const t0 = Date.now();
      for (let i = 0; i < 20; i++) stage.run({ exchange: exchange({ path: `/p?${big}` }), audit: AUDIT });
      expect(Date.now() - t0).toBeLessThan(100);
      await new Promise((r) => setTimeout(r, 110));
    }
    sock.resume();
    const gap = await until(() => frames.find((f) => f.type === 'gap'), 10_000);
    expect(gap.missed).toBeGreaterThan(0);
    const metrics = await raw(h.base, '/metrics', auth(h));
    expect(metrics.body).toMatch(/leakwatch_stream_coalesced_batches_total [1-9]/);
    // After the gap the client is live again.
    const after = exchange();
    stage.run({ exchange: after, audit: AUDIT });
    await until(() => flowsOf(frames).some((f) => f.id === after.id), 10_000);
    ws.close();
  }, 30_000);

  it('drops a client that stays too slow', async () => {
    h = await startHarness({ stream: { softLimit: 16 * 1024, hardLimit: 256 * 1024, slowMs: 60_000 } });
    const { ws } = await openWs(h.base, '/api/stream', auth(h));
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const stage = createStreamStage(h.dash.hub);
    const big = 'y'.repeat(256 * 1024);
    for (let round = 0; round < 60 && h.dash.hub.subscribers > 0; round++) {
      for (let i = 0; i < 10; i++) stage.run({ exchange: exchange({ path: `/p?${big}` }), audit: AUDIT });
      await new Promise((r) => setTimeout(r, 110));
      const m = await raw(h.base, '/metrics', auth(h));
      if (/leakwatch_stream_dropped_clients_total 1/.test(m.body)) break;
    }
    const m = await raw(h.base, '/metrics', auth(h));
    expect(m.body).toMatch(/leakwatch_stream_dropped_clients_total 1/);
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await closed).toBeGreaterThan(0);
  }, 30_000);
});
