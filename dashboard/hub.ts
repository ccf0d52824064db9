/**
 * The stream hub: the proxy side publishes audited exchanges, WebSocket clients subscribe.
 *
 * publish() is O(1) and never blocks: it appends to a pending array (bounded: past `maxPending`
 * new items are dropped and counted) and arms one timer. Every `batchMs` the timer
 * converts the batch, appends it to a bounded ring (for `?since=` resumes), updates the counters
 * behind /metrics and hands one pre-serialised frame to each subscriber. Per-client back-pressure
 * lives in stream.ts; nothing a browser does can reach back into publish().
 */
import type { PipelineItem } from '../core/pipeline.js';
import type { FlowItem } from './data-source.js';
import { toFlowItem } from './flow-item.js';

export interface HubOptions {
  /** Batch window; the issue asks for 100 ms. */
  batchMs: number;
  /** Items kept in memory for resumes. */
  ringSize: number;
  /** Items allowed to wait for one flush before the oldest are dropped. */
  maxPending: number;
  /** Session name stamped on live items (the store knows it for stored ones). */
  session: string | null;
}

export type HubListener = (items: readonly FlowItem[], frame: string) => void;

export interface HubCounters {
  flows: number;
  findingsByCategory: Map<string, number>;
  findingsByKind: Map<string, number>;
  ruleHits: Map<string, number>;
  droppedPending: number;
}

const DEFAULTS: HubOptions = { batchMs: 100, ringSize: 2000, maxPending: 20_000, session: null };
const RATE_WINDOW_S = 10;

export class StreamHub {
  readonly options: HubOptions;
  readonly counters: HubCounters = {
    flows: 0,
    findingsByCategory: new Map(),
    findingsByKind: new Map(),
    ruleHits: new Map(),
    droppedPending: 0,
  };
  private pending: PipelineItem[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly ring: Array<FlowItem | undefined>;
  private ringStart = 0;
  private ringLength = 0;
  private readonly listeners = new Set<HubListener>();
  private readonly perSecond = new Array<number>(RATE_WINDOW_S).fill(0);
  private perSecondAt = Math.floor(Date.now() / 1000);
  private closed = false;

  constructor(options: Partial<HubOptions> = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.ring = new Array<FlowItem | undefined>(this.options.ringSize);
  }

  publish(item: PipelineItem): void {
    if (this.closed) return;
    this.tick(1);
    if (this.pending.length >= this.options.maxPending) {
      // Dropping the newest keeps publish O(1); viewers see the loss as a gap in ids.
      this.counters.droppedPending++;
      return;
    }
    this.pending.push(item);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.options.batchMs);
      this.timer.unref();
    }
  }

  subscribe(listener: HubListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  /**
   * Items published after `lastId`, oldest first. `complete` is false when `lastId` is older than
   * the ring (the caller then asks the store for the rest).
   */
  since(lastId: number): { items: FlowItem[]; complete: boolean } {
    const all = this.snapshot();
    const at = all.findIndex((f) => f.id === lastId);
    // Ids are unique but exchanges finish out of order, so the cursor is the position of the
    // last-seen item when we still hold it, and "every id above it" otherwise.
    if (at >= 0) return { items: all.slice(at + 1), complete: true };
    const oldest = all.reduce((m, f) => Math.min(m, f.id), Number.POSITIVE_INFINITY);
    const full = this.ringLength === this.options.ringSize;
    return { items: all.filter((f) => f.id > lastId), complete: !full || lastId >= oldest };
  }

  /** Ring contents, oldest first. */
  snapshot(): FlowItem[] {
    const out: FlowItem[] = [];
    for (let i = 0; i < this.ringLength; i++) {
      const f = this.ring[(this.ringStart + i) % this.options.ringSize];
      if (f) out.push(f);
    }
    return out;
  }

  /** Published items per second over the last ten seconds. */
  rate(): number {
    this.tick(0);
    const sum = this.perSecond.reduce((a, b) => a + b, 0);
    return Math.round((sum / RATE_WINDOW_S) * 100) / 100;
  }

  flushNow(): void {
    this.flush();
  }

  /**
   * Drop every item `match` picks from the ring and the pending batch (a purged value): a later
   * `?since=` replay must not bring it back. Returns how many went.
   */
  forget(match: (f: FlowItem) => boolean): number {
    this.flush();
    const kept = this.snapshot().filter((f) => !match(f));
    const gone = this.ringLength - kept.length;
    this.ring.fill(undefined);
    kept.forEach((f, i) => (this.ring[i] = f));
    this.ringStart = 0;
    this.ringLength = kept.length;
    return gone;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
    this.listeners.clear();
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const session = this.options.session;
    const items = batch.map((item) => toFlowItem(item, session));
    for (const f of items) {
      this.remember(f);
      this.count(f);
    }
    // One frame per batch for every subscriber; none at all when no dashboard is watching.
    if (this.listeners.size === 0) return;
    const frame = JSON.stringify({ type: 'flows', items });
    for (const l of this.listeners) l(items, frame);
  }

  private remember(f: FlowItem): void {
    const size = this.options.ringSize;
    if (this.ringLength < size) {
      this.ring[(this.ringStart + this.ringLength) % size] = f;
      this.ringLength++;
    } else {
      this.ring[this.ringStart] = f;
      this.ringStart = (this.ringStart + 1) % size;
    }
  }

  private count(f: FlowItem): void {
    const c = this.counters;
    c.flows++;
    if (f.rule) c.ruleHits.set(f.rule, (c.ruleHits.get(f.rule) ?? 0) + 1);
    for (const leak of f.leaks) {
      const cat = f.category ?? (f.firstParty ? 'first-party' : 'unclassified');
      c.findingsByCategory.set(cat, (c.findingsByCategory.get(cat) ?? 0) + 1);
      c.findingsByKind.set(leak.kind, (c.findingsByKind.get(leak.kind) ?? 0) + 1);
    }
  }

  private tick(n: number): void {
    const now = Math.floor(Date.now() / 1000);
    const steps = Math.min(now - this.perSecondAt, RATE_WINDOW_S);
    for (let i = 1; i <= steps; i++) this.perSecond[(this.perSecondAt + i) % RATE_WINDOW_S] = 0;
    if (now > this.perSecondAt) this.perSecondAt = now;
    this.perSecond[now % RATE_WINDOW_S]! += n;
  }
}
