/**
 * Text from captured traffic printed on a terminal: a URL or header may carry ESC sequences (clear
 * the screen, move the cursor, OSC 8 hyperlinks, set the window title), C1 controls (8-bit CSI),
 * line breaks that fake extra output lines, or bidi controls that reorder what is shown. Every such
 * character is written as a visible escape instead, so the operator sees what was captured.
 */

// C0 (with TAB, LF, CR), DEL, C1, the bidi embeddings/overrides/isolates and marks, and the
// Unicode line/paragraph separators.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// In JSON text C0 is already escaped by JSON.stringify; the rest is valid raw JSON but still
// reaches the terminal as is. `\uXXXX` keeps the document's meaning.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const hex = (c: string, width: number): string => c.charCodeAt(0).toString(16).toUpperCase().padStart(width, '0');

/** One field of human-readable output: `\x1B`, `\n`, `\u202E` ... shown as such. */
export function escapeForTerminal(s: string): string {
  return s.replace(UNSAFE, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return c.charCodeAt(0) <= 0xff ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`;
  });
}

/** JSON text (from JSON.stringify) with every character a terminal would act on as `\uXXXX`. */
export function terminalSafeJson(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (c) => `\\u${hex(c, 4)}`);
}

