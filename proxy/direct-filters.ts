/**
 * The final filters for the usual case: no data/end handlers registered (leakwatch registers
 * none). Every chunk goes to its destination synchronously, so nothing needs queueing and the
 * Writable machinery of filters.ts (state object, a nextTick per chunk and per end, 'finish' and
 * the pipe clean-up it triggers) is pure cost. These objects give Readable.pipe() what it uses
 * (write() returning false + 'drain', end()) and keep the same fixes: backpressure with the same
 * burst budget, the body tees, the upstream timer paused while a slow client drains, the gate's
 * rewritten body. With handlers present the Writable filters still run (they order async work).
 */
import { EventEmitter } from 'node:events';
import { BackpressureRequestFilter, BackpressureResponseFilter, none, writeWithinBudget, type Destination } from './filters.js';
import { flowOf, type Flow } from './flow.js';
import type { LibCtx, LibProxy } from './lib-types.js';

/** Emits 'drain' on `filter` once `dest` drains or closes (a closed client takes nothing more). */
function drainLater(filter: EventEmitter, dest: Destination, onResume?: () => void): void {
  const resume = (): void => {
    dest.off('drain', resume);
    dest.off('close', resume);
    onResume?.();
    filter.emit('drain');
  };
  dest.on('drain', resume);
  dest.on('close', resume);
}

export class DirectRequestFilter extends EventEmitter {
  readonly writable = true;
  readonly #flow: Flow | undefined;

  constructor(private readonly ctx: LibCtx) {
    super();
    this.#flow = flowOf(ctx);
    const upstream = ctx.proxyToServerRequest;
    if (upstream && this.#flow) this.#flow.attachUpstream(upstream, ctx.proxyToClientResponse);
  }

  write(chunk: Buffer): boolean {
    const flow = this.#flow;
    if (flow?.bodyOverride) return true; // body already read and rewritten before forwarding
    flow?.requestTee.push(chunk);
    const upstream = this.ctx.proxyToServerRequest;
    if (!upstream || upstream.destroyed || writeWithinBudget(upstream, chunk)) return true;
    drainLater(this, upstream);
    return false;
  }

  end(): void {
    const upstream = this.ctx.proxyToServerRequest;
    if (!upstream || upstream.destroyed) return;
    const override = this.#flow?.bodyOverride;
    if (override) upstream.end(override);
    else upstream.end();
  }
}

export class DirectResponseFilter extends EventEmitter {
  readonly writable = true;
  readonly #flow: Flow | undefined;

  constructor(private readonly ctx: LibCtx) {
    super();
    this.#flow = flowOf(ctx);
  }

  write(chunk: Buffer): boolean {
    const flow = this.#flow;
    flow?.responseTee.push(chunk);
    const res = this.ctx.proxyToClientResponse;
    if (res.destroyed || writeWithinBudget(res, chunk)) return true;
    // We stop reading upstream on purpose now: that silence is not an upstream timeout.
    flow?.suspendUpstreamTimer();
    drainLater(this, res, () => flow?.resumeUpstreamTimer());
    return false;
  }

  end(): void {
    const res = this.ctx.proxyToClientResponse;
    if (!res.destroyed) res.end();
  }
}

/*
 * What patches.ts installs as the library's ProxyFinalRequestFilter / ProxyFinalResponseFilter.
 * The library calls them with `new`; a function that returns an object yields that object.
 * Plain `function`s on purpose: arrow functions cannot be called with `new`.
 */
export function leakwatchRequestFilter(proxy: LibProxy, ctx: LibCtx): DirectRequestFilter | BackpressureRequestFilter {
  const direct = none(proxy.onRequestDataHandlers, ctx.onRequestDataHandlers) && none(proxy.onRequestEndHandlers, ctx.onRequestEndHandlers);
  return direct ? new DirectRequestFilter(ctx) : new BackpressureRequestFilter(proxy, ctx);
}

export function leakwatchResponseFilter(proxy: LibProxy, ctx: LibCtx): DirectResponseFilter | BackpressureResponseFilter {
  const direct = none(proxy.onResponseDataHandlers, ctx.onResponseDataHandlers) && none(proxy.onResponseEndHandlers, ctx.onResponseEndHandlers);
  return direct ? new DirectResponseFilter(ctx) : new BackpressureResponseFilter(proxy, ctx);
}
