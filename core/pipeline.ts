/**
 * The post-response pipeline: an explicit, ordered list of stages that every completed exchange
 * passes through, off the request's hot path. Listeners (the proxy, the DNS server, the STUN
 * sensor) only call `submit`; the stages run on a later turn of the event loop.
 *
 * A stage that throws (or rejects) has a bug: it is logged with the exchange id and stage name and
 * contained, the remaining stages still run, and the proxy keeps serving (mitmproxy's safecall).
 */
import type { Audit } from './audit.js';
import type { Exchange } from './exchange.js';

export interface PipelineItem {
  readonly exchange: Exchange;
  /** Set by the audit stage; later stages read it. */
  audit?: Audit;
}

export interface Stage {
  readonly name: string;
  run(item: PipelineItem): void | Promise<void>;
}

export interface StageErrorLogger {
  (info: { exchangeId: number; stage: string; err: unknown }): void;
}

export interface Pipeline {
  submit(exchange: Exchange): void;
  /** Resolves when everything submitted so far has been through every stage. */
  drain(): Promise<void>;
  readonly pending: number;
}

export function createPipeline(stages: readonly Stage[], onStageError: StageErrorLogger): Pipeline {
  let queue: Exchange[] = [];
  let scheduled = false;
  let inFlight = 0;
  let waiters: Array<() => void> = [];

  const settle = (): void => {
    if (queue.length === 0 && inFlight === 0 && !scheduled) {
      const w = waiters;
      waiters = [];
      for (const fn of w) fn();
    }
  };

  /** Stages from index `from` on, after one returned a promise (the slow path). */
  const runRest = async (item: PipelineItem, from: number, first: Promise<void>): Promise<void> => {
    try {
      await first;
    } catch (err: unknown) {
      onStageError({ exchangeId: item.exchange.id, stage: stages[from - 1]!.name, err });
    }
    for (let i = from; i < stages.length; i++) {
      try {
        const r = stages[i]!.run(item);
        if (r !== undefined) await r;
      } catch (err: unknown) {
        onStageError({ exchangeId: item.exchange.id, stage: stages[i]!.name, err });
      }
    }
  };

  /**
   * Runs the stages; synchronous while they are (every built-in stage is), so the common case
   * costs no promise per exchange. Returns a promise only when a stage went async.
   */
  const runOne = (exchange: Exchange): Promise<void> | undefined => {
    const item: PipelineItem = { exchange };
    for (let i = 0; i < stages.length; i++) {
      const stage = stages[i]!;
      try {
        const r = stage.run(item);
        if (r !== undefined) return runRest(item, i + 1, r as Promise<void>);
      } catch (err: unknown) {
        onStageError({ exchangeId: exchange.id, stage: stage.name, err });
      }
    }
    return undefined;
  };

  const flush = (): void => {
    scheduled = false;
    const batch = queue;
    queue = [];
    for (const ex of batch) {
      const p = runOne(ex);
      if (!p) continue;
      inFlight++;
      void p.finally(() => {
        inFlight--;
        settle();
      });
    }
    settle();
  };

  return {
    submit(exchange) {
      queue.push(exchange);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    drain() {
      if (queue.length === 0 && inFlight === 0 && !scheduled) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    get pending() {
      return queue.length + inFlight;
    },
  };
}
