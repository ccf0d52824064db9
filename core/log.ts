/**
 * The one logger. Structured (pino), to stderr so stdout stays clean for `analyze --json` and
 * `export`. Captured values are personal data: log exchange ids, hosts and codes, never bodies,
 * header values or findings. The redact list is a safety net, not a licence.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env['LEAKWATCH_LOG_LEVEL'] ?? 'info'): Logger {
  return pino(
    {
      level,
      base: null,
      redact: {
        paths: ['value', 'values', 'headers', 'body', '*.value', '*.headers', '*.body', 'authorization', 'cookie'],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything: for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
