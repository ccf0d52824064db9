/**
 * Replacements for http-mitm-proxy's final request/response filters (installed by patches.ts).
 *
 * Defects fixed here:
 * - missing backpressure: the originals return true from write() whatever the destination says,
 *   so a slow origin or client made the proxy buffer whole bodies (RSS 100 -> 292 MB).
 * - empty body with async handlers: the originals call end() before pending chunk callbacks run.
 *   A Writable runs one _write at a time and _final only after all of them.
 * They also tee each chunk into the flow's capture (passive: framing is untouched).
 * These Writable versions run only when data/end handlers are registered; without any (the usual
 * case) direct-filters.ts does the same work synchronously, and picks between the two.
 */
import { Writable } from 'node:stream';
import type { ClientRequest, ServerResponse } from 'node:http';
import { flowOf } from './flow.js';
import type { LibCtx, LibProxy } from './lib-types.js';

export type Destination = ClientRequest | ServerResponse;

/**
 * The library runs every chunk and every end through async.forEach over (global ++ per-ctx)
 * handler lists, even when both are empty (they always are: leakwatch registers no data/end
 * handlers). Skipping that saves an array concat and a few closures per chunk.
 */
export const none = (global: readonly unknown[] | undefined, perCtx: readonly unknown[] | undefined): boolean =>
  global !== undefined && global.length === 0 && (perCtx === undefined || perCtx.length === 0);

/**
 * Bytes we let queue on a destination before waiting for 'drain'. Node's http write() returns false
 * once one 16 KiB TLS record is queued (the socket's high-water mark), and waiting on every false
 * made each upstream record its own SSL_write + syscall to the client: a 64 KiB upstream read turns
 * into ~4 records emitted in one tick. Node corks the socket for that tick on the first write, so
 * letting the rest of the burst queue sends it as one writev (one SSL_write, one syscall).
 * writableLength counts what the peer has not taken yet, so a slow receiver still stops us here:
 * the bound per connection is this budget plus one chunk.
 */
export const WRITE_BURST_BYTES = 64 * 1024;

/** Writes; true when the caller may write more now, false when it must wait for 'drain'. */
export function writeWithinBudget(dest: Destination, chunk: Buffer): boolean {
  // A false write() set the destination's need-drain flag, so 'drain' still comes if we wait later.
  return dest.write(chunk) || dest.writableLength < WRITE_BURST_BYTES;
}

/** Writes, then calls `done` once the destination can take more (or is gone). */
function writeThenWait(dest: Destination, chunk: Buffer, done: () => void, onWait?: () => void, onResume?: () => void): void {
  if (dest.destroyed) return done();
  if (writeWithinBudget(dest, chunk)) return done();
  onWait?.();
  const finish = (): void => {
    dest.off('drain', finish);
    dest.off('close', finish);
    onResume?.();
    done();
  };
  dest.on('drain', finish);
  dest.on('close', finish);
}

export class BackpressureRequestFilter extends Writable {
  constructor(
    private readonly proxy: LibProxy,
    private readonly ctx: LibCtx,
  ) {
    super();
    const upstream = ctx.proxyToServerRequest;
    const flow = flowOf(ctx);
    if (upstream && flow) flow.attachUpstream(upstream, ctx.proxyToClientResponse);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const flow = flowOf(this.ctx);
    if (flow?.bodyOverride) return cb(); // body already read and rewritten before forwarding
    flow?.requestTee.push(chunk);
    if (none(this.proxy.onRequestDataHandlers, this.ctx.onRequestDataHandlers)) {
      const upstream = this.ctx.proxyToServerRequest;
      return upstream ? writeThenWait(upstream, chunk, cb) : cb();
    }
    this.proxy._onRequestData(this.ctx, chunk, (err, out) => {
      const upstream = this.ctx.proxyToServerRequest;
      if (err || !out || !upstream) return cb();
      writeThenWait(upstream, out, cb);
    });
  }

  override _final(cb: (err?: Error | null) => void): void {
    const end = (): void => {
      const override = flowOf(this.ctx)?.bodyOverride;
      const upstream = this.ctx.proxyToServerRequest;
      if (upstream && !upstream.destroyed) {
        if (override) upstream.end(override);
        else upstream.end();
      }
      cb();
    };
    if (none(this.proxy.onRequestEndHandlers, this.ctx.onRequestEndHandlers)) return end();
    this.proxy._onRequestEnd(this.ctx, end);
  }
}

export class BackpressureResponseFilter extends Writable {
  constructor(
    private readonly proxy: LibProxy,
    private readonly ctx: LibCtx,
  ) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const flow = flowOf(this.ctx);
    flow?.responseTee.push(chunk);
    const send = (out: Buffer): void =>
      writeThenWait(this.ctx.proxyToClientResponse, out, cb, () => flow?.suspendUpstreamTimer(), () => flow?.resumeUpstreamTimer());
    if (none(this.proxy.onResponseDataHandlers, this.ctx.onResponseDataHandlers)) return send(chunk);
    this.proxy._onResponseData(this.ctx, chunk, (err, out) => {
      if (err || !out) return cb();
      send(out);
    });
  }

  override _final(cb: (err?: Error | null) => void): void {
    const end = (): void => {
      const res = this.ctx.proxyToClientResponse;
      if (!res.destroyed) res.end();
      cb();
    };
    if (none(this.proxy.onResponseEndHandlers, this.ctx.onResponseEndHandlers)) return end();
    this.proxy._onResponseEnd(this.ctx, end);
  }
}
