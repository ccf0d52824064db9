/**
 * Hands finished exchanges to the consumer (the pipeline). Never awaited and wrapped: a consumer
 * that throws or rejects is logged and cannot hurt the proxy. Also keeps the engine's counters.
 */
import type { Exchange } from '../core/exchange.js';
import type { Logger } from '../core/log.js';

export interface Recorder {
  emit(ex: Exchange): void;
  readonly exchanges: number;
  readonly errors: number;
}

export function createRecorder(onExchange: (ex: Exchange) => void, log: Logger): Recorder {
  let exchanges = 0;
  let errors = 0;
  return {
    emit(ex) {
      exchanges++;
      if (ex.error) errors++;
      try {
        const result: unknown = onExchange(ex);
        if (result && typeof (result as Promise<unknown>).then === 'function') {
          (result as Promise<unknown>).then(undefined, (err: unknown) => log.error({ err, id: ex.id }, 'onExchange rejected'));
        }
      } catch (err: unknown) {
        log.error({ err, id: ex.id }, 'onExchange threw');
      }
    },
    get exchanges() {
      return exchanges;
    },
    get errors() {
      return errors;
    },
  };
}
