import { describe, expect, it } from 'vitest';
import { EMPTY_BODY, type Exchange } from '../../core/exchange.js';
import { createPipeline, type PipelineItem, type Stage } from '../../core/pipeline.js';

const anExchange = (id: number): Exchange => ({
  id,
  kind: 'http',
  listener: 'proxy',
  startedAt: 0,
  endedAt: 0,
  client: { address: '127.0.0.1', port: 1 },
  request: {
    method: 'GET', url: 'http://a.example/', scheme: 'http', host: 'a.example', port: 80, path: '/',
    httpVersion: '1.1', headers: [], body: EMPTY_BODY,
  },
});

describe('pipeline', () => {
  it('runs every stage in order for each exchange, off the caller turn', async () => {
    const seen: string[] = [];
    const stages: Stage[] = [
      { name: 'a', run: (i) => void seen.push(`a${i.exchange.id}`) },
      { name: 'b', run: async (i) => void seen.push(`b${i.exchange.id}`) },
    ];
    const p = createPipeline(stages, () => {});
    p.submit(anExchange(1));
    p.submit(anExchange(2));
    expect(seen).toEqual([]);
    await p.drain();
    expect(seen.filter((s) => s.endsWith('1'))).toEqual(['a1', 'b1']);
    expect(seen).toHaveLength(4);
  });

  it('contains a throwing or rejecting stage: logged with id and stage, later stages still run', async () => {
    const errors: Array<{ exchangeId: number; stage: string }> = [];
    const later: number[] = [];
    const p = createPipeline(
      [
        { name: 'boom', run: () => { throw new Error('bug'); } },
        { name: 'reject', run: () => Promise.reject(new Error('async bug')) },
        { name: 'after', run: (i: PipelineItem) => void later.push(i.exchange.id) },
      ],
      (e) => errors.push({ exchangeId: e.exchangeId, stage: e.stage }),
    );
    p.submit(anExchange(7));
    await p.drain();
    expect(errors).toEqual([{ exchangeId: 7, stage: 'boom' }, { exchangeId: 7, stage: 'reject' }]);
    expect(later).toEqual([7]);
  });

  it('lets a stage pass results to the next through the item', async () => {
    let got: unknown;
    const p = createPipeline(
      [
        { name: 'audit', run: (i) => { i.audit = { classification: null, firstParty: false, findings: [], severity: 'none', verdict: 'allow', notes: ['x'] }; } },
        { name: 'read', run: (i) => { got = i.audit?.notes; } },
      ],
      () => {},
    );
    p.submit(anExchange(3));
    await p.drain();
    expect(got).toEqual(['x']);
  });

  it('drain resolves immediately when idle', async () => {
    const p = createPipeline([], () => {});
    await expect(p.drain()).resolves.toBeUndefined();
    expect(p.pending).toBe(0);
  });
});
