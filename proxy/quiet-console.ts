/**
 * http-mitm-proxy 1.1.0 has no silent mode: it prints with console.info/debug/error. The only
 * prints left on our code paths happen synchronously inside listen() and inside the callback it
 * hands to _createHttpsServer, so we reroute the console to our logger (debug level) for exactly
 * those synchronous calls and restore it right after; nobody else's console is touched.
 */
import type { Logger } from '../core/log.js';

const METHODS = ['log', 'info', 'debug', 'warn', 'error', 'trace'] as const;

export function withConsoleRouted<T>(log: Logger, fn: () => T): T {
  const saved = METHODS.map((m) => console[m]);
  for (const m of METHODS) {
    console[m] = (...args: unknown[]): void => {
      log.debug({ lib: 'http-mitm-proxy', args: args.map((a) => (a instanceof Error ? a.message : String(a))) }, 'library console');
    };
  }
  try {
    return fn();
  } finally {
    METHODS.forEach((m, i) => {
      console[m] = saved[i]!;
    });
  }
}
