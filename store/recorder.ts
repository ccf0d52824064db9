/**
 * The recorder stage: the proxy's pipeline hands it audited exchanges. SQLite runs in a worker
 * thread (recorder-worker.ts, its own connection), so a batch never holds the proxy's event loop
 * (a 1,000-row batch on the main thread took ~150 ms under load). This side only enqueues (O(1))
 * and posts a batch every flushMs, or as soon as maxBatch items wait. The queue is bounded (what
 * waits here + in flight + in the worker): past maxQueue new items are dropped and counted, so a
 * stalled disk never blocks or grows the proxy. The worker reports written/dropped/failures/
 * lastError back after every change. SIGKILL loses at most what waited for one batch window.
 *
 * Bodies the writer will not keep (--store-bodies, --redact) are stripped before posting: only
 * their sizes cross the thread boundary.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { Stage } from '../core/pipeline.js';
import type { BodyCapture, Exchange } from '../core/exchange.js';
import type { Store } from './db.js';
import { createInlineRecorder, type Recorder, type RecorderOptions, type RecorderStats } from './recorder-inline.js';
import type { FromWorker, ToWorker, WorkerInit } from './recorder-worker.js';
import { keepsBodies, type RecordItem } from './write.js';

export type { Recorder, RecorderOptions, RecorderStats };

/** How long flush() waits for the worker before giving up (a wedged disk must not hang a caller). */
const FLUSH_WAIT_MS = 30_000;
const CLOSE_WAIT_MS = 10_000;
const EMPTY = Buffer.alloc(0);

/**
 * The worker script: beside this file when running the build (dist/store/), or the build's copy
 * when this file runs from TypeScript sources (vitest; `npm test` builds first). null: no build,
 * so the recorder falls back to writing on this thread.
 */
function workerScript(): URL | null {
  const beside = new URL('./recorder-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL('../dist/store/recorder-worker.js', import.meta.url);
  return existsSync(fileURLToPath(built)) ? built : null;
}

/**
 * Bodies from this size on cross to the worker by transfer: a fresh copy (at most `cap` bytes) is
 * made here and its ArrayBuffer moved, instead of structured clone copying it twice (into the
 * message, then out of it in the worker). The caller's buffer is never transferred: the proxy may
 * still hold it, or it may be a slice of a shared pool.
 */
const TRANSFER_FROM = 4096;

/** Own-buffer copy of at most `cap` bytes: a pooled Buffer would drag its whole 8 KB pool along. */
function portable(b: BodyCapture | undefined, keep: boolean, cap: number, tx: ArrayBuffer[]): BodyCapture | undefined {
  if (!b || b.bytes.length === 0) return b;
  if (!keep) return { bytes: EMPTY, size: b.size, truncated: b.truncated };
  const over = b.bytes.length > cap;
  const bytes = over ? b.bytes.subarray(0, cap) : b.bytes;
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  if (own && bytes.length < TRANSFER_FROM) return { bytes, size: b.size, truncated: b.truncated || over };
  const copy = new Uint8Array(bytes);
  if (bytes.length >= TRANSFER_FROM) tx.push(copy.buffer);
  return { bytes: copy as Buffer, size: b.size, truncated: b.truncated || over };
}

/** The exchange as posted; ArrayBuffers it alone owns are added to `tx` (the transfer list). */
function toWire(ex: Exchange, keep: boolean, cap: number, tx: ArrayBuffer[]): Exchange {
  const req = ex.request.body.bytes.length > 0 ? { ...ex.request, body: portable(ex.request.body, keep, cap, tx)! } : ex.request;
  const res = ex.response && ex.response.body.bytes.length > 0 ? { ...ex.response, body: portable(ex.response.body, keep, cap, tx)! } : ex.response;
  const ws = ex.websocket && ex.websocket.data.bytes.length > 0 ? { ...ex.websocket, data: portable(ex.websocket.data, keep, cap, tx)! } : ex.websocket;
  if (req === ex.request && res === ex.response && ws === ex.websocket) return ex;
  return { ...ex, request: req, ...(res ? { response: res } : {}), ...(ws ? { websocket: ws } : {}) };
}

export function createRecorder(store: Store, opts: RecorderOptions): Recorder {
  const script = opts.thread === 'inline' || store.file === ':memory:' ? null : workerScript();
  if (!script) return createInlineRecorder(store, opts);
  return createWorkerRecorder(store, opts, script);
}

function createWorkerRecorder(store: Store, opts: RecorderOptions, script: URL): Recorder {
  const flushMs = opts.flushMs ?? 100;
  const maxBatch = opts.maxBatch ?? 1000;
  const maxQueue = opts.maxQueue ?? 50_000;
  const cap = opts.bodyCap ?? 256 * 1024;
  const log = opts.log;
  const ctrl = new SharedArrayBuffer(4);
  const done = new Int32Array(ctrl);
  const { port1, port2 } = new MessageChannel();
  const init: WorkerInit = {
    file: store.file,
    opts: {
      sessionId: opts.sessionId, storeBodies: opts.storeBodies, redact: opts.redact, redactKey: new Uint8Array(opts.redactKey),
      flushMs, maxBatch, maxQueue, ...(opts.bodyCap !== undefined ? { bodyCap: opts.bodyCap } : {}),
      ...(opts.declared ? { declared: [...opts.declared] } : {}),
    },
    ctrl,
    port: port2,
  };
  const worker = new Worker(script, { workerData: init, transferList: [port2] });
  // Neither keeps the process alive: like the old flush timer, only close() waits for writes.
  worker.unref();
  port1.unref();

  let pending: RecordItem[] = [];
  /** Transferable buffers of each pending item (parallel to `pending`; null when none). */
  let pendingTx: Array<ArrayBuffer[] | null> = [];
  let timer: NodeJS.Timeout | null = null;
  let immediate: NodeJS.Immediate | null = null;
  let posted = 0;
  let seq = 0;
  let closed = false;
  let dead: string | null = null;
  let mainDropped = 0;
  let w = { received: 0, queued: 0, written: 0, dropped: 0, failures: 0, lastError: null as string | null };
  let onClosed: (() => void) | null = null;

  const handle = (m: FromWorker): void => {
    if (m.t === 'stats') w = m;
    else if (m.t === 'log') log[m.level](m.obj, m.msg);
    else if (m.t === 'closed') onClosed?.();
    else if (m.t === 'fatal') die(m.error);
  };
  port1.on('message', handle);
  /** Messages already sent are read now, so stats() right after a flush is exact. */
  const drainReports = (): void => {
    for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) handle(m.message as FromWorker);
  };
  function die(msg: string): void {
    if (dead) return;
    dead = msg;
    log.error({ err: msg }, 'recorder worker failed; exchanges are no longer recorded');
    mainDropped += pending.length + (posted - w.received);
    pending = [];
    pendingTx = [];
    onClosed?.();
  }
  worker.on('error', (err) => die(err.message));
  worker.on('exit', (code) => {
    if (!closed) die(`recorder worker exited (${code})`);
    onClosed?.();
  });

  const send = (m: ToWorker, transfer?: ArrayBuffer[]): void => {
    if (!dead) port1.postMessage(m, transfer);
  };
  /** Full batches go now; a remainder waits for the timer (or everything, when `all`). */
  const post = (all: boolean): void => {
    while (pending.length >= maxBatch || (all && pending.length > 0)) {
      const whole = pending.length <= maxBatch;
      const batch = whole ? pending : pending.slice(0, maxBatch);
      const txs = whole ? pendingTx : pendingTx.slice(0, maxBatch);
      pending = whole ? [] : pending.slice(maxBatch);
      pendingTx = whole ? [] : pendingTx.slice(maxBatch);
      const transfer: ArrayBuffer[] = [];
      for (const t of txs) if (t) for (const b of t) transfer.push(b);
      posted += batch.length;
      send({ t: 'items', items: batch }, transfer);
    }
  };
  const onTimer = (): void => {
    timer = null;
    post(true);
  };
  const onImmediate = (): void => {
    immediate = null;
    post(false);
    if (pending.length > 0 && !timer && !closed) {
      timer = setTimeout(onTimer, flushMs);
      timer.unref();
    }
  };
  const inFlight = (): number => posted - w.received + w.queued;

  const stage: Stage = {
    name: 'record',
    run(item) {
      if (closed || dead || pending.length + inFlight() >= maxQueue) {
        mainDropped++;
        return;
      }
      const keep = keepsBodies(opts, item.audit?.findings.length ?? 0);
      const tx: ArrayBuffer[] = [];
      pending.push({ exchange: toWire(item.exchange, keep, cap, tx), audit: item.audit });
      pendingTx.push(tx.length > 0 ? tx : null);
      if (pending.length >= maxBatch) {
        immediate ??= setImmediate(onImmediate);
      } else if (!timer && !immediate) {
        timer = setTimeout(onTimer, flushMs);
        timer.unref();
      }
    },
  };

  return {
    stage,
    flush() {
      if (dead) return;
      post(true);
      const want = ++seq;
      send({ t: 'flush', seq: want });
      const until = Date.now() + FLUSH_WAIT_MS;
      while (Atomics.load(done, 0) < want && !dead) {
        const left = until - Date.now();
        if (left <= 0) {
          log.error({ waitedMs: FLUSH_WAIT_MS }, 'recorder flush: the worker did not answer in time');
          break;
        }
        Atomics.wait(done, 0, Atomics.load(done, 0), Math.min(left, 200));
      }
      drainReports();
    },
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      timer = null;
      immediate = null;
      if (dead) return;
      post(true);
      const finished = new Promise<void>((resolve) => {
        onClosed = resolve;
      });
      send({ t: 'close' });
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), CLOSE_WAIT_MS).unref());
      // The worker is unref'd: keep the process alive while it writes the last batches.
      worker.ref();
      const r = await Promise.race([finished, timeout]);
      drainReports();
      if (r === 'timeout') log.error({ queued: inFlight() }, 'recording: the worker did not finish writing before shutdown');
      await worker.terminate();
    },
    stats() {
      drainReports();
      return {
        queued: pending.length + inFlight(),
        written: w.written,
        dropped: mainDropped + w.dropped,
        failures: w.failures + (dead ? 1 : 0),
        lastError: dead ?? w.lastError,
      };
    },
  };
}
