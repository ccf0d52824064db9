// The synchronous final filters (no data/end handlers) must keep the Writable filters' contract:
// a burst may queue up to WRITE_BURST_BYTES, beyond that write() returns false until the
// destination drains or closes; handlers registered -> the ordered Writable filters run instead.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { DirectResponseFilter, leakwatchRequestFilter, leakwatchResponseFilter } from '../../proxy/direct-filters.js';
import { BackpressureRequestFilter, BackpressureResponseFilter, WRITE_BURST_BYTES } from '../../proxy/filters.js';
import type { LibCtx, LibProxy } from '../../proxy/lib-types.js';

/** A ServerResponse stand-in: keeps what is written, reports it as not yet sent. */
class FakeRes extends EventEmitter {
  destroyed = false;
  writableLength = 0;
  ended = false;
  readonly chunks: Buffer[] = [];
  write(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    this.writableLength += chunk.length;
    return this.writableLength < 16 * 1024;
  }
  end(): void {
    this.ended = true;
  }
}

const lib = { onRequestDataHandlers: [], onRequestEndHandlers: [], onResponseDataHandlers: [], onResponseEndHandlers: [] } as unknown as LibProxy;
const ctxWith = (res: FakeRes, extra: object = {}): LibCtx => ({ proxyToClientResponse: res, ...extra }) as unknown as LibCtx;

describe('direct filters', () => {
  it('are chosen only when no data/end handler is registered', () => {
    const res = new FakeRes();
    expect(leakwatchResponseFilter(lib, ctxWith(res))).toBeInstanceOf(DirectResponseFilter);
    expect(leakwatchResponseFilter(lib, ctxWith(res, { onResponseDataHandlers: [() => undefined] }))).toBeInstanceOf(BackpressureResponseFilter);
    expect(leakwatchRequestFilter(lib, ctxWith(res, { onRequestEndHandlers: [() => undefined] }))).toBeInstanceOf(BackpressureRequestFilter);
  });

  it('lets a burst queue, then asks the source to wait until the client drains', () => {
    const res = new FakeRes();
    const filter = new DirectResponseFilter(ctxWith(res));
    const chunk = Buffer.alloc(16 * 1024);
    const answers: boolean[] = [];
    for (let sent = 0; sent < WRITE_BURST_BYTES; sent += chunk.length) answers.push(filter.write(chunk));
    expect(answers.slice(0, -1).every(Boolean)).toBe(true);
    expect(answers.at(-1)).toBe(false);
    let drained = 0;
    filter.on('drain', () => drained++);
    res.writableLength = 0;
    res.emit('drain');
    res.emit('drain');
    expect(drained).toBe(1);
    expect(res.listenerCount('drain') + res.listenerCount('close')).toBe(0);
    filter.end();
    expect(res.ended).toBe(true);
  });

  it('releases the source when the client goes away while it waits', () => {
    const res = new FakeRes();
    const filter = new DirectResponseFilter(ctxWith(res));
    expect(filter.write(Buffer.alloc(WRITE_BURST_BYTES))).toBe(false);
    let drained = 0;
    filter.on('drain', () => drained++);
    res.destroyed = true;
    res.emit('close');
    expect(drained).toBe(1);
    expect(filter.write(Buffer.alloc(10))).toBe(true); // dropped: nobody to send it to
    filter.end();
    expect(res.ended).toBe(false);
  });
});
