/**
 * The recorder's write loop on the thread that owns the SQLite connection: inside the recorder
 * worker (recorder-worker.ts) in the running proxy, or on the caller's thread (`thread: 'inline'`,
 * for ':memory:' stores and tests that steer the connection). It only enqueues on stage.run; a
 * flusher writes batches in one transaction every flushMs or as soon as maxBatch items wait. The queue is bounded: when full, new items are dropped and
 * counted, so a stalled disk never blocks or grows the proxy. Failed batches stay at the head of
 * the queue and are retried with backoff; each distinct error is logged once (no log storm).
 */
import type { Logger } from '../core/log.js';
import type { Stage } from '../core/pipeline.js';
import type { Store } from './db.js';
import { createWriter, type RecordItem, type StoreBodies } from './write.js';

export interface RecorderOptions {
  readonly sessionId: number;
  readonly flushMs?: number;
  readonly maxBatch?: number;
  readonly maxQueue?: number;
  readonly storeBodies: StoreBodies;
  readonly redact: boolean;
  readonly redactKey: Buffer;
  /** Declared identities: scrubbed from every exchange under `redact` (write.ts). */
  readonly declared?: readonly string[];
  readonly bodyCap?: number;
  readonly log: Logger;
  /**
   * Where SQLite runs: 'worker' (default for file stores) keeps it off the event loop; 'inline'
   * writes on this thread (':memory:' stores, tests that change the connection's pragmas).
   */
  readonly thread?: 'worker' | 'inline';
}

export interface RecorderStats {
  /** Items waiting to be written (including a batch kept for retry). */
  readonly queued: number;
  /** Exchanges written since start. */
  readonly written: number;
  /** Exchanges lost: queue full, or a row SQLite refused (e.g. a duplicate id). */
  readonly dropped: number;
  /** Failed write attempts (disk full, read-only, I/O error, ...). */
  readonly failures: number;
  /** The last write error, null once recording works again. */
  readonly lastError: string | null;
}

export interface Recorder {
  readonly stage: Stage;
  /** Write everything queued now (synchronous; a failure is counted, not thrown). */
  flush(): void;
  /** Stop the flusher after writing everything it can (SIGTERM/SIGINT path). */
  close(): Promise<void>;
  stats(): RecorderStats;
}

/** Errors that say "the disk, not this data": keep the batch and retry. */
const TRANSIENT = /^SQLITE_(FULL|IOERR|READONLY|BUSY|LOCKED|CANTOPEN|PROTOCOL|NOMEM)/;
const MAX_BACKOFF_MS = 2000;

export function createInlineRecorder(store: Store, opts: RecorderOptions): Recorder {
  const flushMs = opts.flushMs ?? 100;
  const maxBatch = opts.maxBatch ?? 1000;
  const maxQueue = opts.maxQueue ?? 50_000;
  const write = createWriter(store, opts);
  const log = opts.log;
  let queue: RecordItem[] = [];
  let timer: NodeJS.Timeout | null = null;
  let immediate: NodeJS.Immediate | null = null;
  let closed = false;
  let written = 0, dropped = 0, failures = 0, consecutive = 0;
  let lastError: string | null = null;
  const logged = new Set<string>();

  const fail = (err: unknown): void => {
    failures++;
    consecutive++;
    const code = (err as { code?: unknown }).code;
    const msg = `${typeof code === 'string' ? code + ': ' : ''}${err instanceof Error ? err.message : String(err)}`;
    lastError = msg;
    if (!logged.has(msg)) {
      logged.add(msg);
      log.error({ err: msg, queued: queue.length }, 'recording failed; exchanges are kept in memory up to the queue bound and retried');
    }
  };

  /** One batch; returns false when it failed and should be retried later. */
  const writeOne = (): boolean => {
    const batch = queue.slice(0, maxBatch);
    try {
      write(batch);
    } catch (err: unknown) {
      const code = String((err as { code?: unknown }).code ?? '');
      fail(err);
      if (TRANSIENT.test(code)) return false;
      // A row SQLite refuses (not the disk): write the batch item by item and drop the bad ones,
      // so one poisoned exchange cannot stall recording forever.
      for (const item of batch) {
        try {
          write([item]);
          written++;
        } catch (e: unknown) {
          if (TRANSIENT.test(String((e as { code?: unknown }).code ?? ''))) return false;
          dropped++;
        }
        queue.shift();
      }
      return true;
    }
    queue = queue.slice(batch.length);
    written += batch.length;
    if (consecutive > 0) {
      log.info({ written, dropped }, 'recording resumed');
      consecutive = 0;
      lastError = null;
      logged.clear();
    }
    return true;
  };

  const drain = (): boolean => {
    while (queue.length > 0) if (!writeOne()) return false;
    return true;
  };

  const schedule = (delay: number): void => {
    if (closed || timer) return;
    timer = setTimeout(tick, delay);
    timer.unref();
  };

  function tick(): void {
    timer = null;
    immediate = null;
    // One batch per turn, so a large backlog never holds the event loop for long.
    const ok = queue.length === 0 || writeOne();
    if (queue.length === 0) return;
    if (!ok) return schedule(Math.min(MAX_BACKOFF_MS, flushMs * 2 ** Math.min(consecutive, 5)));
    if (queue.length >= maxBatch) {
      immediate = setImmediate(tick);
      return;
    }
    schedule(flushMs);
  }

  const stage: Stage = {
    name: 'record',
    run(item) {
      if (closed || queue.length >= maxQueue) {
        dropped++;
        return;
      }
      queue.push({ exchange: item.exchange, audit: item.audit });
      if (queue.length >= maxBatch && !immediate && consecutive === 0) {
        if (timer) clearTimeout(timer);
        timer = null;
        immediate = setImmediate(tick);
      } else if (!immediate) schedule(flushMs);
    },
  };

  return {
    stage,
    flush() {
      drain();
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      timer = null;
      immediate = null;
      // A few short retries (a busy lock clears quickly); a dead disk cannot hold up shutdown.
      for (let attempt = 0; attempt < 5 && !drain(); attempt++) await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
      if (queue.length > 0) {
        dropped += queue.length;
        log.error({ lost: queue.length }, 'recording: exchanges could not be written before shutdown');
        queue = [];
      }
    },
    stats: () => ({ queued: queue.length, written, dropped, failures, lastError }),
  };
}
