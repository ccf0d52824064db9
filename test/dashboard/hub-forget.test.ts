import { describe, expect, it } from 'vitest';
import { StreamHub } from '../../dashboard/hub.js';
import { exchange } from './harness.js';

describe('StreamHub.forget', () => {
  it('drops matching items from the ring and the pending batch; since() no longer replays them', () => {
    const hub = new StreamHub({ batchMs: 10_000, ringSize: 4 });
    const paths = ['/a?who=bob', '/b', '/c?who=bob', '/d', '/e?who=bob'];
    const ids = paths.map((path) => {
      const ex = exchange({ host: 'vector.im', path, method: 'GET', reqBody: '' });
      hub.publish({ exchange: ex });
      return ex.id;
    });
    hub.flushNow();
    // ring of 4: the first went out already.
    expect(hub.snapshot().map((f) => f.id)).toEqual(ids.slice(1));
    hub.publish({ exchange: exchange({ host: 'vector.im', path: '/f?who=bob', method: 'GET', reqBody: '' }) });
    // The pending /f is flushed into the ring first (pushing /b out), then /c, /e and /f go.
    expect(hub.forget((f) => f.path.includes('bob'))).toBe(3);
    expect(hub.snapshot().map((f) => f.path)).toEqual(['/d']);
    expect(hub.since(0).items.map((f) => f.path)).toEqual(['/d']);
    hub.publish({ exchange: exchange({ host: 'vector.im', path: '/g', method: 'GET', reqBody: '' }) });
    hub.flushNow();
    expect(hub.snapshot().map((f) => f.path)).toEqual(['/d', '/g']);
    hub.close();
  });
});
