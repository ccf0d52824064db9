/**
 * The recorder's one batching layer: items wait here for a batch window (flushMs) or until
 * maxBatch of them are waiting, then go to `onBatch` together (to the writer thread, or to the
 * write loop when SQLite runs on this thread). A burst that fills maxBatch within one turn of the
 * event loop is handed over on the next turn, so it still travels as whole batches.
 */
export interface Batcher<T> {
  add(item: T): void;
  /** Hand over everything waiting now (flush, close). */
  takeAll(): void;
  /** Stop for good: timers off, what still waits is discarded (call takeAll first to keep it). */
  stop(): void;
  readonly size: number;
}

export interface BatcherOptions<T> {
  readonly flushMs: number;
  readonly maxBatch: number;
  readonly onBatch: (items: T[]) => void;
}

export function createBatcher<T>(opts: BatcherOptions<T>): Batcher<T> {
  const { flushMs, maxBatch, onBatch } = opts;
  let pending: T[] = [];
  let timer: NodeJS.Timeout | null = null;
  let immediate: NodeJS.Immediate | null = null;
  let stopped = false;

  /** Full batches go now; a remainder waits for the timer (or everything, when `all`). */
  const post = (all: boolean): void => {
    while (pending.length >= maxBatch || (all && pending.length > 0)) {
      const batch = pending.length <= maxBatch ? pending : pending.slice(0, maxBatch);
      pending = batch === pending ? [] : pending.slice(maxBatch);
      onBatch(batch);
    }
  };
  const arm = (): void => {
    if (timer || stopped) return;
    timer = setTimeout(onTimer, flushMs);
    timer.unref();
  };
  function onTimer(): void {
    timer = null;
    post(true);
  }
  const onImmediate = (): void => {
    immediate = null;
    post(false);
    if (pending.length > 0) arm();
  };

  return {
    add(item) {
      if (stopped) return;
      pending.push(item);
      if (pending.length >= maxBatch) immediate ??= setImmediate(onImmediate);
      else if (!immediate) arm();
    },
    takeAll() {
      if (timer) clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      timer = null;
      immediate = null;
      post(true);
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      timer = null;
      immediate = null;
      pending = [];
    },
    get size() {
      return pending.length;
    },
  };
}
