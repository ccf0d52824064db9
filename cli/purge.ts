/**
 * `leakwatch purge --value V`: delete every finding of a value (given raw, or as the hex keyed
 * hash the dashboard shows for redacted values), with the bodies and headers that carried it.
 */
import { existsSync } from 'node:fs';
import { ConfigError } from '../core/errors.js';
import { dbPath, openStore } from '../store/db.js';
import { loadOrCreateRedactKey } from '../store/redact.js';

export interface PurgeCommandOptions {
  readonly dataDir: string;
  readonly value: string;
}

/** Returns the line to print. */
export function purgeCommand(opts: PurgeCommandOptions): string {
  if (opts.value === '') throw new ConfigError('--value: empty value');
  const file = dbPath(opts.dataDir);
  if (!existsSync(file)) throw new ConfigError(`no recordings: ${file} does not exist`);
  const store = openStore(file, { redactKey: loadOrCreateRedactKey(opts.dataDir) });
  try {
    const n = store.purgeValue(opts.value);
    return n === 0 ? 'No findings of that value.' : `Purged ${n} finding${n === 1 ? '' : 's'} of that value, with the bodies and headers that carried it.`;
  } finally {
    store.close();
  }
}
