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
