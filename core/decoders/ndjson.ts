/**
 * Newline-delimited JSON (Sentry envelopes: envelope header, then item header and item payload per
 * item; also JSON Lines batches). Lines that are not JSON (a binary attachment) are skipped.
 */

/** Lines parsed at most; the rest is reported in a note. */
export const MAX_NDJSON_LINES = 10_000;

export interface NdjsonResult {
  /** Parsed lines with their 0-based line number. */
  readonly docs: ReadonlyArray<{ readonly line: number; readonly json: unknown }>;
  readonly notes: string[];
}

/**
 * null unless the text is NDJSON: a first line that is a JSON object and at least one more JSON
 * line. Total on any input.
 */
export function parseNdjson(text: string): NdjsonResult | null {
  const nl = text.indexOf('\n');
  if (nl === -1 || text.trimStart()[0] !== '{') return null;
  const docs: Array<{ line: number; json: unknown }> = [];
  const notes: string[] = [];
  let start = 0;
  let line = 0;
  while (start <= text.length) {
    if (line >= MAX_NDJSON_LINES) {
      notes.push(`ndjson: more than ${MAX_NDJSON_LINES} lines; rest ignored`);
      break;
    }
    const end = text.indexOf('\n', start);
    const raw = text.slice(start, end === -1 ? text.length : end).trim();
    if (raw[0] === '{' || raw[0] === '[') {
      try {
        docs.push({ line, json: JSON.parse(raw) as unknown });
      } catch {
        if (line === 0) return null;
      }
    } else if (line === 0) {
      return null;
    }
    line++;
    if (end === -1) break;
    start = end + 1;
  }
  return docs.length >= 2 ? { docs, notes } : null;
}
