// Rule texts (why, what to do) are written in Markdown by pack authors. Only the safe part is
// rendered: `code spans` become <code>, everything else stays plain text (never parsed as HTML).
import { html } from 'htm/preact';

/** Splits on backticks: odd pieces are code. An unpaired backtick is shown as it is. */
export function mdSpans(text) {
  const s = String(text ?? '');
  const parts = s.split('`');
  if (parts.length % 2 === 0) return [{ text: s, code: false }];
  return parts.map((t, i) => ({ text: t, code: i % 2 === 1 })).filter((p) => p.text !== '');
}

export function Md({ text }) {
  return html`${mdSpans(text).map((p) => (p.code ? html`<code>${p.text}</code>` : p.text))}`;
}
