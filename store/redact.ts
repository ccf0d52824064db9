/**
 * Redaction (`--redact`): leaked values are personal data, so the store can keep a masked preview
 * (enough to recognise "my email", not enough to read it) plus a keyed hash. The key is per
 * install (`<data-dir>/redact.key`, 0600): the hash lets `purge --value V` find V again and lets
 * two captures be compared, while a copied database alone does not allow dictionary attacks.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';

const KEY_BYTES = 32;

/** Read the install's redaction key, creating it (0600) on first use. */
export function loadOrCreateRedactKey(dataDir: string): Buffer {
  const file = join(dataDir, 'redact.key');
  try {
    // 'wx' fails if the file exists, so two processes starting at once cannot both create it.
    writeFileSync(file, randomBytes(KEY_BYTES), { flag: 'wx', mode: 0o600 });
    chmodSync(file, 0o600);
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = readFileSync(file);
  if (key.length !== KEY_BYTES) throw new ConfigError(`${file}: expected a ${KEY_BYTES}-byte key, found ${key.length} bytes`);
  return key;
}

export function keyedHash(key: Buffer, value: string): Buffer {
  return createHmac('sha256', key).update(value, 'utf8').digest();
}

const stars = (n: number): string => '*'.repeat(Math.max(3, n));

function maskEmail(v: string): string | null {
  const at = v.lastIndexOf('@');
  if (at <= 0) return null;
  const local = v.slice(0, at);
  const labels = v.slice(at + 1).split('.');
  const tld = labels.length > 1 ? labels.pop()! : '';
  const domain = labels.join('.');
  return `${local.slice(0, 2)}***@${domain.slice(0, 2)}***${tld ? '.' + tld : ''}`;
}

function maskPhone(v: string): string {
  if (v.length <= 6) return stars(v.length);
  return v.slice(0, 3) + '*'.repeat(v.length - 6) + v.slice(-3);
}

/** A preview that never contains the whole value: `al***@ex***.org`, `+44*******123`, `@al***.org`. */
export function maskValue(kind: string, v: string): string {
  if (kind === 'email') return maskEmail(v) ?? maskGeneric(v);
  if (kind === 'phone') return maskPhone(v);
  return maskGeneric(v);
}

function maskGeneric(v: string): string {
  if (v.length <= 4) return '***';
  if (v.length <= 10) return v.slice(0, 1) + '***';
  return v.slice(0, 3) + '***' + v.slice(-3);
}

/**
 * Replace every spelling of the given values that can appear in a URL, a header or JSON (as is,
 * percent-encoded, form-encoded, JSON-escaped) with a placeholder. Values shorter than 3 characters
 * are left alone: replacing them would shred unrelated text and hide nothing.
 */
export function createScrubber(values: readonly string[], placeholder = '[redacted]'): (s: string) => string {
  const spellings = new Set<string>();
  for (const v of values) {
    if (v.length < 3) continue;
    spellings.add(v);
    spellings.add(encodeURIComponent(v));
    spellings.add(encodeURIComponent(v).replace(/%20/g, '+'));
    spellings.add(JSON.stringify(v).slice(1, -1));
  }
  // Longest first, so a value that contains another is replaced whole.
  const list = [...spellings].sort((a, b) => b.length - a.length);
  if (list.length === 0) return (s) => s;
  return (s) => {
    let out = s;
    for (const sp of list) if (out.includes(sp)) out = out.split(sp).join(placeholder);
    return out;
  };
}
