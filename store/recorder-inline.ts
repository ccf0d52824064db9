/**
 * Writing exchanges on the thread that owns the SQLite connection. The write loop writes each batch
 * it is given in one transaction; failed batches stay at the head of its queue and are retried
 * with backoff; each distinct error is logged once (no log storm); a row SQLite refuses is dropped
 * alone. It does not batch: batcher.ts does, once, on the proxy's thread. The write loop runs
 * inside the recorder worker (recorder-worker.ts) in the running proxy, or on the caller's thread
 * as the inline recorder (`thread: 'inline'`, for ':memory:' stores and tests that steer the
 * connection), which puts the batcher in front of it.
 */
import type { Logger } from '../core/log.js';
import type { Stage } from '../core/pipeline.js';
import { createBatcher } from './batcher.js';
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
  /** Write everything queued now; resolves once it is written (a failure is counted, not thrown). */
  flush(): Promise<void>;
  /** Stop the flusher after writing everything it can (SIGTERM/SIGINT path). */
  close(): Promise<void>;
  stats(): RecorderStats;
}

/** Errors that say "the disk, not this data": keep the batch and retry. */
const TRANSIENT = /^SQLITE_(FULL|IOERR|READONLY|BUSY|LOCKED|CANTOPEN|PROTOCOL|NOMEM)/;
const MAX_BACKOFF_MS = 2000;

export interface WriteLoop {
  /** Queue a batch and write it now (unless a failed batch is waiting for its retry). */
  add(items: readonly RecordItem[]): void;
  /** Write everything queued, now; false when a write failed (it stays queued). */
  drain(): boolean;
  /** Stop retrying after writing everything it can (SIGTERM/SIGINT path). */
  close(): Promise<void>;
  stats(): RecorderStats;
  /** Items waiting (a batch kept for retry, or a backlog). */
  readonly queued: number;
}

export function createWriteLoop(store: Store, opts: Pick<RecorderOptions, 'flushMs' | 'maxBatch' | 'log'> & Parameters<typeof createWriter>[1]): WriteLoop {
  const flushMs = opts.flushMs ?? 100;
  const maxBatch = opts.maxBatch ?? 1000;
  const write = createWriter(store, opts);
  const log = opts.log;
  let queue: RecordItem[] = [];
  let retry: NodeJS.Timeout | null = null;
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

  /**
   * What is still queued after a write (a failed batch, or a backlog) goes on a timer: with backoff
   * after a failure, otherwise on the next turn, one batch per turn so a backlog never holds the loop.
   */
  const later = (): void => {
    if (closed || queue.length === 0) return;
    retry = setTimeout(onRetry, consecutive > 0 ? Math.min(MAX_BACKOFF_MS, flushMs * 2 ** Math.min(consecutive, 5)) : 0);
    retry.unref();
  };
  function onRetry(): void {
    retry = null;
    if (queue.length > 0) writeOne();
    later();
  }

  return {
    add(items) {
      for (const item of items) queue.push(item);
      if (retry || closed) return;
      writeOne();
      later();
    },
    drain,
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      retry = null;
      // A few short retries (a busy lock clears quickly); a dead disk cannot hold up shutdown.
      for (let attempt = 0; attempt < 5 && !drain(); attempt++) await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
      if (queue.length > 0) {
        dropped += queue.length;
        log.error({ lost: queue.length }, 'recording: exchanges could not be written before shutdown');
        queue = [];
      }
    },
    stats: () => ({ queued: queue.length, written, dropped, failures, lastError }),
    get queued() {
      return queue.length;
    },
  };

}

/** The write loop with the batcher in front, both on this thread. */
export function createInlineRecorder(store: Store, opts: RecorderOptions): Recorder {
  const maxQueue = opts.maxQueue ?? 50_000;
  const loop = createWriteLoop(store, opts);
  const batcher = createBatcher<RecordItem>({ flushMs: opts.flushMs ?? 100, maxBatch: opts.maxBatch ?? 1000, onBatch: (items) => loop.add(items) });
  let closed = false;
  let dropped = 0;

  const stage: Stage = {
    name: 'record',
    run(item) {
      if (closed || batcher.size + loop.queued >= maxQueue) {
        dropped++;
        return;
      }
      batcher.add({ exchange: item.exchange, audit: item.audit });
    },
  };

  return {
    stage,
    async flush() {
      batcher.takeAll();
      loop.drain();
    },
    async close() {
      closed = true;
      batcher.takeAll();
      batcher.stop();
      await loop.close();
    },
    stats() {
      const s = loop.stats();
      return { ...s, queued: s.queued + batcher.size, dropped: s.dropped + dropped };
    },
  };
}
