/**
 * The recorder's worker thread: its own SQLite connection to the store file and the write loop
 * (recorder-inline.ts: one transaction per batch, retry with backoff, poisoned rows dropped alone).
 * The main thread posts batches already formed by its batcher; each is written as it arrives. This
 * side reports its counters back after every change, so the proxy's stats() and /api/health stay
 * current.
 *
 * Messages in:  {t:'items', items} · {t:'flush', seq} (write everything, then answer `flushed`
 * with that seq) · {t:'close'}.
 * Messages out: {t:'stats', ...} · {t:'log', level, obj, msg} · {t:'flushed', seq} · {t:'closed'}.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Logger } from '../core/log.js';
import { openStore } from './db.js';
import { createWriteLoop, type RecorderOptions } from './recorder-inline.js';
import type { RecordItem } from './write.js';

export interface WorkerInit {
  readonly file: string;
  readonly opts: Omit<RecorderOptions, 'log' | 'thread' | 'redactKey'> & { readonly redactKey: Uint8Array };
  readonly port: MessagePort;
}

export type ToWorker =
  | { readonly t: 'items'; readonly items: RecordItem[] }
  | { readonly t: 'flush'; readonly seq: number }
  | { readonly t: 'close' };

export interface WorkerStats {
  readonly t: 'stats';
  /** Items received from the main thread so far (in-flight = posted - received). */
  readonly received: number;
  readonly queued: number;
  readonly written: number;
  readonly dropped: number;
  readonly failures: number;
  readonly lastError: string | null;
}

export type FromWorker =
  | WorkerStats
  | { readonly t: 'log'; readonly level: 'error' | 'warn' | 'info' | 'debug'; readonly obj: object; readonly msg: string }
  | { readonly t: 'flushed'; readonly seq: number }
  | { readonly t: 'closed' }
  | { readonly t: 'fatal'; readonly error: string };

/** Nice value of the writer thread: below the proxy's event loop, which serves the requests. */
export const WORKER_NICE = 10;

/**
 * Lower this thread's CPU priority only. On Linux the nice value is per thread and pid 0 means the
 * calling thread, so the proxy's main thread keeps its priority while a 100 ms batch no longer
 * competes with it for a core (p99 jitter at 1 connection on 2 cores). Refused or unsupported
 * (another OS, a sandbox): recording works the same, at normal priority.
 */
function lowerPriority(log: (obj: object, msg: string) => void): void {
  try {
    setPriority(0, WORKER_NICE);
  } catch (err: unknown) {
    log({ err: err instanceof Error ? err.message : String(err) }, 'recorder worker: could not lower its priority');
  }
}

/** Structured clone turns a Buffer into a plain Uint8Array: make body bytes Buffers again. */
function asBuffer(b: { bytes: Uint8Array } | undefined): void {
  if (b && !Buffer.isBuffer(b.bytes)) b.bytes = Buffer.from(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength);
}

function run(init: WorkerInit): void {
  const port = init.port;
  const post = (m: FromWorker): void => port.postMessage(m);
  const emit = (level: 'error' | 'warn' | 'info' | 'debug') => (obj: object, msg: string) => post({ t: 'log', level, obj, msg });
  const log = { error: emit('error'), warn: emit('warn'), info: emit('info'), debug: () => undefined } as unknown as Logger;
  lowerPriority(emit('debug'));
  let store: ReturnType<typeof openStore>;
  try {
    store = openStore(init.file);
  } catch (err: unknown) {
    post({ t: 'fatal', error: err instanceof Error ? err.message : String(err) });
    return;
  }
  const rec = createWriteLoop(store, { ...init.opts, redactKey: Buffer.from(init.opts.redactKey), log });
  let received = 0;
  let last = '';
  const report = (): void => {
    const s = rec.stats();
    const key = `${received}/${s.queued}/${s.written}/${s.dropped}/${s.failures}/${s.lastError}`;
    if (key === last) return;
    last = key;
    post({ t: 'stats', received, ...s });
  };
  // Retries run on the write loop's own timers: report what they change.
  const ticker = setInterval(report, 50);
  port.on('message', (m: ToWorker) => {
    if (m.t === 'items') {
      for (const it of m.items) {
        const ex = it.exchange as unknown as { request: { body: { bytes: Uint8Array } }; response?: { body: { bytes: Uint8Array } }; websocket?: { data: { bytes: Uint8Array } } };
        asBuffer(ex.request.body);
        asBuffer(ex.response?.body);
        asBuffer(ex.websocket?.data);
      }
      received += m.items.length;
      rec.add(m.items);
      report();
    } else if (m.t === 'flush') {
      rec.drain();
      report();
      post({ t: 'flushed', seq: m.seq });
    } else if (m.t === 'close') {
      clearInterval(ticker);
      void rec.close().then(() => {
        report();
        store.close();
        post({ t: 'closed' });
        port.close();
      });
    }
  });
}

if (parentPort) run(workerData as WorkerInit);
