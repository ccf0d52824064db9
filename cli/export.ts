/**
 * `leakwatch export --format jsonl|har|csv [--since ISO] [--session ID|NAME]`: recorded exchanges
 * to a stream (stdout). Bad flags are ConfigErrors with one line saying what and where.
 */
import { existsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { ConfigError } from '../core/errors.js';
import { dbPath, openStore } from '../store/db.js';
import { exportStore, type ExportFormat } from '../store/export.js';
import { createQueries } from '../store/queries.js';

export interface ExportCommandOptions {
  readonly dataDir: string;
  readonly format: string;
  readonly since?: string;
  readonly session?: string;
  readonly out: Writable;
}

const FORMATS: readonly ExportFormat[] = ['jsonl', 'har', 'csv'];
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseSince(since: string): number {
  const t = ISO.test(since.trim()) ? Date.parse(since.trim()) : NaN;
  if (Number.isNaN(t)) throw new ConfigError(`--since: "${since}" is not an ISO 8601 date or time (e.g. 2025-06-01 or 2025-06-01T12:00:00Z)`);
  return t;
}

/** Streams the export into `out` (does not end it). Returns the number of exchanges written. */
export async function exportCommand(opts: ExportCommandOptions): Promise<number> {
  if (!(FORMATS as readonly string[]).includes(opts.format)) {
    throw new ConfigError(`--format: "${opts.format}" is not one of ${FORMATS.join(', ')}`);
  }
  const since = opts.since !== undefined ? parseSince(opts.since) : undefined;
  const file = dbPath(opts.dataDir);
  if (!existsSync(file)) throw new ConfigError(`no recordings: ${file} does not exist (start leakwatch first, or pass --data-dir)`);
  const store = openStore(file);
  try {
    let sessionId: number | undefined;
    if (opts.session !== undefined) {
      const sessions = createQueries(store).sessions();
      const s = sessions.find((x) => x.name === opts.session) ?? sessions.find((x) => String(x.id) === opts.session);
      if (!s) throw new ConfigError(`--session: no session "${opts.session}" in ${file}`);
      sessionId = s.id;
    }
    return await exportStore(store, {
      format: opts.format as ExportFormat, out: opts.out, terminal: (opts.out as { isTTY?: boolean }).isTTY === true,
      ...(since !== undefined ? { since } : {}), ...(sessionId !== undefined ? { sessionId } : {}),
    });
  } finally {
    store.close();
  }
}
