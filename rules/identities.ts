/**
 * The known-value index from CLI flags: `--identity kind=value` (repeatable) and `--identities FILE`
 * (same lines, one per line). Shared by `start` and `analyze` so both look for the same values.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../core/errors.js';
import { buildKnownValueIndex, parseIdentitiesText, parseIdentity, type KnownValueIndex } from './known-values.js';

export function knownValuesFromFlags(identity: readonly string[], identityFiles: readonly string[]): KnownValueIndex {
  const list = identity.map((spec) => parseIdentity(spec));
  for (const file of identityFiles) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err: unknown) {
      throw new ConfigError(`--identities ${file}: ${(err as Error).message}`);
    }
    list.push(...parseIdentitiesText(text, file));
  }
  return buildKnownValueIndex(list);
}
