/**
 * The recorder stage: the proxy's pipeline hands it audited exchanges. SQLite runs in a worker
 * thread (recorder-worker.ts, its own connection), so a batch never holds the proxy's event loop
 * (a 1,000-row batch on the main thread took ~150 ms under load). This side only enqueues (O(1))
 * into the batcher (batcher.ts, the one batching layer), which posts a batch every flushMs, or as
 * soon as maxBatch items wait; the worker writes each batch as it arrives. The queue is bounded (what
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
import { ConfigError } from '../core/errors.js';
import type { Stage } from '../core/pipeline.js';
import type { BodyCapture, Exchange } from '../core/exchange.js';
import { createBatcher } from './batcher.js';
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
 * when this file runs from TypeScript sources (vitest's global setup builds it first). Missing, the
 * recorder refuses to start: silently writing SQLite on the proxy's thread instead would stall
 * every request during a batch.
 */
function workerScript(): URL {
  const beside = new URL('./recorder-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL('../dist/store/recorder-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new ConfigError(`the recorder's worker script is missing (${fileURLToPath(beside)}); build leakwatch again (npm run build)`);
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

/** Writes on a worker thread, unless told `thread: 'inline'` (or the store is ':memory:', which a worker cannot open). */
export function createRecorder(store: Store, opts: RecorderOptions): Recorder {
  if (opts.thread === 'inline' || store.file === ':memory:') return createInlineRecorder(store, opts);
  return createWorkerRecorder(store, opts, workerScript());
}

interface Waiting {
  readonly item: RecordItem;
  /** Transferable buffers of the item (null when none). */
  readonly tx: ArrayBuffer[] | null;
}

function createWorkerRecorder(store: Store, opts: RecorderOptions, script: URL): Recorder {
  const flushMs = opts.flushMs ?? 100;
  const maxBatch = opts.maxBatch ?? 1000;
  const maxQueue = opts.maxQueue ?? 50_000;
  const cap = opts.bodyCap ?? 256 * 1024;
  const log = opts.log;
  const { port1, port2 } = new MessageChannel();
  const init: WorkerInit = {
    file: store.file,
    opts: {
      sessionId: opts.sessionId, storeBodies: opts.storeBodies, redact: opts.redact, redactKey: new Uint8Array(opts.redactKey),
      flushMs, maxBatch, maxQueue, ...(opts.bodyCap !== undefined ? { bodyCap: opts.bodyCap } : {}),
      ...(opts.declared ? { declared: [...opts.declared] } : {}),
    },
    port: port2,
  };
  const worker = new Worker(script, { workerData: init, transferList: [port2] });
  // Neither keeps the process alive: like the old flush timer, only close() waits for writes.
  worker.unref();
  port1.unref();

  let posted = 0;
  let seq = 0;
  let closed = false;
  let dead: string | null = null;
  let mainDropped = 0;
  let w = { received: 0, queued: 0, written: 0, dropped: 0, failures: 0, lastError: null as string | null };
  let onClosed: (() => void) | null = null;
  /** flush() calls waiting for the worker's `flushed`, by seq. */
  const flushes = new Map<number, () => void>();
  const settleFlushes = (upTo: number): void => {
    for (const [n, resolve] of flushes) if (n <= upTo) { flushes.delete(n); resolve(); }
  };

  const send = (m: ToWorker, transfer?: ArrayBuffer[]): void => {
    if (!dead) port1.postMessage(m, transfer);
  };
  const batcher = createBatcher<Waiting>({
    flushMs,
    maxBatch,
    onBatch(batch) {
      const transfer: ArrayBuffer[] = [];
      for (const b of batch) if (b.tx) for (const t of b.tx) transfer.push(t);
      posted += batch.length;
      send({ t: 'items', items: batch.map((b) => b.item) }, transfer);
    },
  });

  const handle = (m: FromWorker): void => {
    if (m.t === 'stats') w = m;
    else if (m.t === 'log') log[m.level](m.obj, m.msg);
    else if (m.t === 'flushed') settleFlushes(m.seq);
    else if (m.t === 'closed') onClosed?.();
    else if (m.t === 'fatal') die(m.error);
  };
  port1.on('message', handle);
  /** Messages already sent are read now, so stats() is exact right after a flush. */
  const drainReports = (): void => {
    for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) handle(m.message as FromWorker);
  };
  function die(msg: string): void {
    if (dead) return;
    dead = msg;
    log.error({ err: msg }, 'recorder worker failed; exchanges are no longer recorded');
    mainDropped += batcher.size + (posted - w.received);
    batcher.stop();
    settleFlushes(Infinity);
    onClosed?.();
  }
  worker.on('error', (err) => die(err.message));
  worker.on('exit', (code) => {
    if (!closed) die(`recorder worker exited (${code})`);
    onClosed?.();
  });

  const inFlight = (): number => posted - w.received + w.queued;

  const stage: Stage = {
    name: 'record',
    run(item) {
      if (closed || dead || batcher.size + inFlight() >= maxQueue) {
        mainDropped++;
        return;
      }
      const keep = keepsBodies(opts, item.audit?.findings.length ?? 0);
      const tx: ArrayBuffer[] = [];
      batcher.add({ item: { exchange: toWire(item.exchange, keep, cap, tx), audit: item.audit }, tx: tx.length > 0 ? tx : null });
    },
  };

  return {
    stage,
    async flush() {
      if (dead) return;
      batcher.takeAll();
      const want = ++seq;
      const flushed = new Promise<void>((resolve) => flushes.set(want, resolve));
      send({ t: 'flush', seq: want });
      // Waiting for the answer must keep the process alive (the port alone is unref'd).
      worker.ref();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), FLUSH_WAIT_MS); });
      const r = await Promise.race([flushed, timeout]);
      clearTimeout(timer);
      if (!closed) worker.unref();
      if (r === 'timeout') {
        flushes.delete(want);
        log.error({ waitedMs: FLUSH_WAIT_MS }, 'recorder flush: the worker did not answer in time');
      }
      drainReports();
    },
    async close() {
      if (closed) return;
      closed = true;
      if (dead) {
        batcher.stop();
        return;
      }
      batcher.takeAll();
      batcher.stop();
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
        queued: batcher.size + inFlight(),
        written: w.written,
        dropped: mainDropped + w.dropped,
        failures: w.failures + (dead ? 1 : 0),
        lastError: dead ?? w.lastError,
      };
    },
  };
}
