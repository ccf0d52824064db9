// Small shared renderers. Everything captured is passed as a text child, never as HTML.
import { html } from 'htm/preact';

export const fmtTime = (t) => {
  if (t === null || t === undefined) return '';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleTimeString([], { hour12: false });
};

export const fmtDateTime = (t) => {
  if (t === null || t === undefined) return '';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleString([], { hour12: false });
};

/** Time of day for today, date and time before that. */
export const fmtShort = (t) => {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return '';
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour12: false, hour: '2-digit', minute: '2-digit' }) : d.toLocaleDateString();
};

export const chip = (text, cls = '') => html`<span class=${`chip ${cls}`}>${text}</span>`;

export const categoryChip = (category, firstParty) =>
  category ? chip(category, `cat cat-${category}`) : firstParty ? chip('first party', 'cat cat-first') : null;

export const verdictChip = (v) => (v && v !== 'allow' ? chip(v, `verdict v-${v}`) : html`<span class="muted">allow</span>`);

/** A WebSocket message's direction and type in words ("↑ sent · text"); null for anything else. */
export const wsText = (direction, binary) =>
  `${direction === 'send' ? '↑ sent' : direction === 'receive' ? '↓ received' : 'message'}${binary === true ? ' · binary' : binary === false ? ' · text' : ''}`;
export const wsChip = (f) => (f.type === 'websocket' ? chip(`WS ${wsText(f.direction, f.binary)}`, 'ws') : null);

export const kindChips = (kinds) => html`${(kinds || []).map((k) => chip(k, 'kind'))}`;

/** Only http(s) links are ever made clickable; anything else stays text. */
export const safeLink = (url, label) =>
  typeof url === 'string' && /^https?:\/\//i.test(url)
    ? html`<a href=${url} target="_blank" rel="noopener noreferrer">${label ?? url}</a>`
    : html`<span>${label ?? url ?? ''}</span>`;

export const hashFor = (route, params) => {
  const qs = new URLSearchParams(Object.entries(params || {}).filter(([, v]) => v !== undefined && v !== null && v !== ''));
  const s = qs.toString();
  return `#/${route}${s ? `?${s}` : ''}`;
};

// A host name is letters, digits, hyphens and dots (LDH; `_` for service names), or an IP literal.
// Anything else (a bidi override that draws the name reversed, a control character, a look-alike
// letter) is shown as \u{…} escapes and flagged, never drawn the way the browser would.
const PLAIN_HOST = /^(?:[A-Za-z0-9_.-]*|\[?[0-9A-Fa-f:.]+\]?)$/;
const PLAIN_CHAR = /[A-Za-z0-9_.:[\]-]/;

/** `{ text, odd }`: the name as shown, and whether it had to be escaped. */
export const hostText = (host) => {
  const s = host === null || host === undefined ? '' : String(host);
  if (PLAIN_HOST.test(s)) return { text: s, odd: false };
  const text = [...s].map((c) => (PLAIN_CHAR.test(c) ? c : `\\u{${c.codePointAt(0).toString(16).toUpperCase()}}`)).join('');
  return { text, odd: true };
};

export const fmtHost = (host) => {
  const { text, odd } = hostText(host);
  return odd
    ? html`<span class="host-odd" title="characters other than letters, digits and hyphens in this name: shown escaped">⚠ ${text}</span>`
    : text;
};
