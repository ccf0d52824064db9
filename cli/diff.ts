/**
 * `leakwatch diff A B`: what B tells third parties that A did not (and what it stopped telling).
 * A and B are session names or ids in the data dir, or HAR files. Exit 1 when B leaks something A
 * did not, so a CI job can guard a client's configuration; 0 otherwise; 2 on bad input.
 */
import { existsSync, statSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { ConfigError } from '../core/errors.js';
import { diffReports, renderDiffMarkdown, renderDiffText } from '../report/diff.js';
import { mdText } from '../report/render-md.js';
import { buildReportFrom, type ReportFlags } from './report.js';

export const DIFF_FORMATS = ['text', 'md', 'json'] as const;

/** A path to an existing file is a HAR; anything else names a session. */
const isFile = (ref: string): boolean => existsSync(ref) && statSync(ref).isFile();

export function diffCommand(a: string, b: string, flags: ReportFlags, out: Writable, err: Writable): 0 | 1 {
  const format = flags.format ?? 'text';
  if (!(DIFF_FORMATS as readonly string[]).includes(format)) throw new ConfigError(`--format: "${format}" is not one of ${DIFF_FORMATS.join(', ')}`);
  const note = (line: string): void => void err.write(`${line}\n`);
  const side = (ref: string, which: string) => {
    try {
      return buildReportFrom(isFile(ref) ? { har: ref } : { dataDir: flags.dataDir, sessions: [ref] }, flags, note);
    } catch (e: unknown) {
      // Everything is bad input here: exit 1 is reserved for "B leaks more".
      throw new ConfigError(`${which} (${ref}): ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const d = diffReports(side(a, 'A'), side(b, 'B'), { a, b });
  out.write(format === 'json' ? `${JSON.stringify(d, null, 2)}\n` : format === 'md' ? renderDiffMarkdown(d, mdText) : renderDiffText(d));
  return d.leaks ? 1 : 0;
}
