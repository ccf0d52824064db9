// Marks leaked values inside captured text by splitting it into plain-text spans: the value is
// found by indexOf, never by building HTML, so a value holding markup stays inert text.
import { html } from 'htm/preact';

/** The forms a value takes on the wire: as is, JSON-escaped, percent-encoded. */
export function needles(values) {
  const out = new Set();
  for (const v of values) {
    if (typeof v !== 'string' || v.length < 3) continue;
    out.add(v);
    const json = JSON.stringify(v).slice(1, -1);
    if (json !== v) out.add(json);
    try {
      const enc = encodeURIComponent(v);
      if (enc !== v) out.add(enc);
    } catch {
      // lone surrogates: keep the raw form only
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** [{text, hit}] covering `text` exactly, hits where any needle occurs (longest first wins). */
export function segments(text, list) {
  if (!text || !list.length) return [{ text: text || '', hit: false }];
  const hay = text.toLowerCase();
  const lower = list.map((n) => n.toLowerCase());
  const out = [];
  let pos = 0;
  while (pos < text.length) {
    let best = -1;
    let bestLen = 0;
    for (const n of lower) {
      const i = hay.indexOf(n, pos);
      if (i >= 0 && (best < 0 || i < best || (i === best && n.length > bestLen))) {
        best = i;
        bestLen = n.length;
      }
    }
    if (best < 0) break;
    if (best > pos) out.push({ text: text.slice(pos, best), hit: false });
    out.push({ text: text.slice(best, best + bestLen), hit: true });
    pos = best + bestLen;
  }
  if (pos < text.length) out.push({ text: text.slice(pos), hit: false });
  return out;
}

export function Highlighted({ text, values }) {
  const segs = segments(text, values);
  return html`${segs.map((s) => (s.hit ? html`<mark class="leak">${s.text}</mark>` : s.text))}`;
}

/** `a.b[2].c` -> ['a', 'b', 2, 'c']; the part of a finding's `where` after its body prefix. */
function pathSteps(path) {
  const steps = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) steps.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return steps;
}

/**
 * What the body carries on the wire at each finding's place, when that differs from the finding's
 * value: a contact hash resolved to the user's declared address is recorded as the address, but
 * the body holds the hash, and that hash is what must be marked. `prefix` is the body's `where`
 * (`request.body`, `response.body`, `websocket.data`); bodies that are not JSON give nothing.
 */
export function wireValues(leaks, prefix, text) {
  const mine = (leaks || []).filter((l) => typeof l.where === 'string' && l.where.startsWith(prefix + '.'));
  if (!mine.length || !text) return [];
  let doc;
  try {
    doc = JSON.parse(text);
  } catch {
    return [];
  }
  const out = [];
  for (const l of mine) {
    let v = doc;
    for (const s of pathSteps(l.where.slice(prefix.length + 1))) v = v !== null && typeof v === 'object' ? v[s] : undefined;
    if (typeof v === 'string' && v !== l.value) out.push(v);
  }
  return out;
}
