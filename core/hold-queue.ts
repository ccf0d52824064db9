/**
 * Hold-and-ask: requests waiting for a person's decision. `hold()` returns a Promise the request
 * gate hands to the proxy (nothing goes upstream until it settles); the dashboard lists the
 * pending holds, is told about each new one at once (`subscribe`), and answers with `resolve()`.
 * No answer within the timeout is a deny. A decision "for an hour" or "always" also settles the
 * other pending holds of the same rule + host (+ client): one click, not one per request.
 */
export type HoldScope = 'once' | 'hour' | 'always';
export const HOLD_SCOPES: readonly HoldScope[] = ['once', 'hour', 'always'];

export interface HoldRequest {
  readonly ruleId: string;
  readonly method: string;
  readonly url: string;
  readonly host: string;
  readonly client: string;
  readonly party: string | null;
  readonly category: string | null;
  readonly severity: string | null;
  /** The rule's "why", in plain words. */
  readonly why: string | null;
  /** Personal data visible in the request head (query, headers, path). */
  readonly findings: ReadonlyArray<{ readonly kind: string; readonly value: string; readonly where: string }>;
}

export interface HeldItem extends HoldRequest {
  readonly id: number;
  /** Epoch ms. */
  readonly since: number;
  readonly deadline: number;
}

export interface HoldOutcome {
  readonly decision: 'allow' | 'deny';
  readonly scope: HoldScope;
  /** user: answered on the dashboard; timeout / overflow / shutdown: denied without an answer. */
  readonly by: 'user' | 'timeout' | 'overflow' | 'shutdown';
  /** Set on holds settled along with another one (same rule + host + client): its id. */
  readonly via?: number;
}

export type HoldEvent =
  | { readonly type: 'hold'; readonly hold: HeldItem }
  | { readonly type: 'hold-resolved'; readonly id: number; readonly outcome: HoldOutcome };

export interface HoldQueueOptions {
  timeoutMs: number;
  /** Beyond this many pending holds new ones are denied at once (a flood must not pile up). */
  maxPending?: number;
  now?: () => number;
}

interface Pending {
  readonly item: HeldItem;
  readonly settle: (o: HoldOutcome) => void;
  readonly timer: NodeJS.Timeout;
}

export class HoldQueue {
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(e: HoldEvent) => void>();
  private nextId = 1;
  private closed = false;
  timeoutMs: number;
  private readonly maxPending: number;
  private readonly now: () => number;

  constructor(opts: HoldQueueOptions) {
    this.timeoutMs = opts.timeoutMs;
    this.maxPending = opts.maxPending ?? 500;
    this.now = opts.now ?? Date.now;
  }

  hold(req: HoldRequest): Promise<HoldOutcome> {
    if (this.closed) return Promise.resolve({ decision: 'deny', scope: 'once', by: 'shutdown' });
    if (this.pending.size >= this.maxPending) return Promise.resolve({ decision: 'deny', scope: 'once', by: 'overflow' });
    const since = this.now();
    const item: HeldItem = { ...req, id: this.nextId++, since, deadline: since + this.timeoutMs };
    return new Promise<HoldOutcome>((resolve) => {
      const timer = setTimeout(() => this.settle(item.id, { decision: 'deny', scope: 'once', by: 'timeout' }), this.timeoutMs);
      timer.unref();
      this.pending.set(item.id, { item, settle: resolve, timer });
      this.emit({ type: 'hold', hold: item });
    });
  }

  /** Pending holds, oldest first. */
  list(): HeldItem[] {
    return [...this.pending.values()].map((p) => p.item);
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * A person's answer. Returns the held items it settled (the one asked about first), or [] when
   * `id` is not pending (already answered, timed out).
   */
  resolve(id: number, decision: 'allow' | 'deny', scope: HoldScope): HeldItem[] {
    const p = this.pending.get(id);
    if (!p) return [];
    const outcome: HoldOutcome = { decision, scope, by: 'user' };
    const done = [p.item];
    this.settle(id, outcome);
    if (scope !== 'once') {
      for (const other of [...this.pending.values()]) {
        const o = other.item;
        if (o.ruleId === p.item.ruleId && o.host === p.item.host && o.client === p.item.client) {
          done.push(o);
          this.settle(o.id, { ...outcome, via: id });
        }
      }
    }
    return done;
  }

  subscribe(fn: (e: HoldEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Denies everything still pending (shutdown). */
  close(): void {
    this.closed = true;
    for (const id of [...this.pending.keys()]) this.settle(id, { decision: 'deny', scope: 'once', by: 'shutdown' });
    this.listeners.clear();
  }

  private settle(id: number, outcome: HoldOutcome): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.settle(outcome);
    this.emit({ type: 'hold-resolved', id, outcome });
  }

  private emit(e: HoldEvent): void {
    for (const fn of this.listeners) {
      try {
        fn(e);
      } catch {
        // a listener's bug must not lose a hold
      }
    }
  }
}
