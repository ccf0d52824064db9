/**
 * The one logger. Structured (pino), to stderr so stdout stays clean for `analyze --json` and
 * `export`. Captured values are personal data: log exchange ids, hosts and codes, never bodies,
 * header values or findings. The redact list is a safety net, not a licence.
 *
 * Where the lines go: JSON to a file (`--log-file`), JSON on stderr when stderr is not a terminal
 * or `--log-format json` asks for it (for journald, jq, log shippers), and plain one-line messages
 * on a terminal, where a person reads them after the start-up banner.
 */
import { Writable } from 'node:stream';
import { pino, type DestinationStream, type Logger } from 'pino';
import { ConfigError } from './errors.js';

export type { Logger };

export const LOG_FORMATS = ['plain', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogOptions {
  readonly level?: string;
  /** Default: plain on a terminal, json otherwise. */
  readonly format?: LogFormat;
  /** Write JSON lines to this file (appended) instead of stderr. */
  readonly file?: string;
  /** Hold terminal lines until `release()` (the start-up banner comes first). */
  readonly held?: boolean;
}

export interface CliLogger {
  readonly log: Logger;
  /** Print the lines held so far and stop holding. */
  release(): void;
  /** Flush a log file (nothing for stderr). */
  close(): Promise<void>;
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** One pino JSON line as `12:34:56 warn  message key=value ...` (the object's own fields, unchanged). */
export function plainLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof o['time'] === 'number' ? new Date(o['time']).toISOString().slice(11, 19) : '--:--:--';
  const level = (LEVELS[o['level'] as number] ?? String(o['level'])).padEnd(5);
  const fields = Object.entries(o)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  return `${time} ${level} ${String(o['msg'] ?? '')}${fields.length > 0 ? ` ${fields.join(' ')}` : ''}\n`;
}

/** A stderr writer that can hold its lines, formatting each one as JSON or plain text. */
function terminalStream(format: LogFormat, held: boolean): { stream: DestinationStream; release(): void } {
  let pending: string[] | null = held ? [] : null;
  const out = (line: string): void => void process.stderr.write(format === 'plain' ? plainLine(line) : line);
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      const line = String(chunk);
      if (pending) pending.push(line);
      else out(line);
      cb();
    },
  });
  return {
    stream: stream as unknown as DestinationStream,
    release() {
      const lines = pending ?? [];
      pending = null;
      for (const l of lines) out(l);
    },
  };
}

function make(level: string, dest: DestinationStream): Logger {
  return pino(
    {
      level,
      base: null,
      redact: {
        paths: ['value', 'values', 'headers', 'body', '*.value', '*.headers', '*.body', 'authorization', 'cookie'],
        censor: '[redacted]',
      },
    },
    dest,
  );
}

/** The logger of `leakwatch start`: see the header for where its lines go. */
export function createCliLogger(opts: LogOptions = {}): CliLogger {
  const level = opts.level ?? process.env['LEAKWATCH_LOG_LEVEL'] ?? 'info';
  if (opts.file !== undefined) {
    // Synchronous: the lines written just before process.exit (stop, a fatal error) are kept.
    let file: ReturnType<typeof pino.destination>;
    try {
      file = pino.destination({ dest: opts.file, sync: true, append: true, mode: 0o600 });
    } catch (err: unknown) {
      throw new ConfigError(`--log-file ${opts.file}: ${(err as Error).message}`);
    }
    return { log: make(level, file), release: () => undefined, close: async () => file.flushSync() };
  }
  const format = opts.format ?? (process.stderr.isTTY ? 'plain' : 'json');
  const term = terminalStream(format, opts.held ?? false);
  return { log: make(level, term.stream), release: term.release, close: async () => term.release() };
}

/** JSON lines on stderr (benchmarks, tools). */
export function createLogger(level: string = process.env['LEAKWATCH_LOG_LEVEL'] ?? 'info'): Logger {
  return make(level, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything: for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
