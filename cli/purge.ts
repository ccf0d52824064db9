/**
 * `leakwatch purge --value V`: delete every trace of a value (given raw, or as the hex keyed hash
 * the dashboard shows for redacted values). When leakwatch is running on the same data dir, the
 * running process does it (`POST /api/purge`): it also forgets the value in what it keeps in
 * memory for the live stream. Otherwise the database is purged here.
 */
import { existsSync } from 'node:fs';
import { ConfigError } from '../core/errors.js';
import { dbPath, openStore } from '../store/db.js';
import type { PurgeReport } from '../store/purge.js';
import { loadOrCreateRedactKey } from '../store/redact.js';
import { purgeInRunningProcess } from './purge-remote.js';

export interface PurgeCommandOptions {
  readonly dataDir: string;
  readonly value: string;
}

const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;

/** The line `purge` prints. */
export function describePurge(r: PurgeReport, where: 'running' | 'file'): string {
  const parts: string[] = [];
  if (r.findings > 0) parts.push(`${plural(r.findings, 'finding')} deleted (with the bodies and headers of ${plural(r.exchanges, 'exchange')})`);
  if (r.rewritten > 0) parts.push(`${plural(r.rewritten, 'other place')} rewritten`);
  if (r.bodies > 0) parts.push(`${plural(r.bodies, 'stored body', 'stored bodies')} without a finding deleted`);
  const hashes = r.hashes > 0 ? ` Looked for its identity-server hash under ${plural(r.hashes, 'pepper')}.` : '';
  const by = where === 'running' ? ' (by the running leakwatch, live stream included)' : '';
  const head = parts.length === 0 ? 'Nothing held that value.' : `Purged${by}: ${parts.join('; ')}.`;
  const tail = r.compacted ? ' Database compacted, WAL emptied.' : ' The WAL is emptied at the next checkpoint (another connection was busy).';
  return `${head}${hashes}${tail}`;
}

/** Returns the line to print. */
export async function purgeCommand(opts: PurgeCommandOptions): Promise<string> {
  if (opts.value === '') throw new ConfigError('--value: empty value');
  const file = dbPath(opts.dataDir);
  if (!existsSync(file)) throw new ConfigError(`no recordings: ${file} does not exist`);
  const remote = await purgeInRunningProcess(opts.dataDir, opts.value);
  if (remote) return describePurge(remote, 'running');
  const store = openStore(file, { redactKey: loadOrCreateRedactKey(opts.dataDir) });
  try {
    return describePurge(store.purgeValue(opts.value), 'file');
  } finally {
    store.close();
  }
}
