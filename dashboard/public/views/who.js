// Who knows what: third parties (rows, by party and registrable domain) x kinds of personal data
// (columns). The main number of a cell is what the party learned (the request carried it there);
// what came back in a response (answered), what leakwatch stopped (prevented) and what waited for a
// decision (held) are shown apart, never added to it. Hosts no rule matched get their own rows,
// flagged for review. Refreshed as the stream brings new exchanges (at most 1/s).
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { getJSON } from '../api.js';
import { currentSession, subscribe, subscribeSession } from '../live-state.js';
import { partyColor } from '../colors.js';
import { categoryChip, fmtDateTime, fmtShort, hashFor } from '../format.js';

export const OUTCOMES = ['sent', 'answered', 'prevented', 'held'];
const LABEL = { sent: 'learned', answered: 'answered', prevented: 'prevented', held: 'held' };
const VIEWS = [
  ['sent', 'What parties learned'],
  ['prevented', 'Prevented'],
  ['answered', 'Answered to you'],
];

const EXPLAIN = {
  sent: 'The big number is what the party received; what leakwatch blocked or neutralized is shown as prevented, and values that only came back in a response as answered.',
  prevented: 'The big number is what leakwatch stopped before it left (blocked or neutralized requests).',
  answered: 'The big number is what came back in responses: what the party told you, not what it learned.',
};

const empty = () => ({ sent: 0, answered: 0, prevented: 0, held: 0, firstSeen: Infinity, lastSeen: 0 });

/** Cells -> rows keyed by party and registrable domain, columns by kind (most learned first). */
export function pivot(cells) {
  const rows = new Map();
  const kinds = new Map();
  for (const c of cells) {
    const key = `${c.party ?? ''}\u0000${c.domain}`;
    const row = rows.get(key) ?? { key, party: c.party, domain: c.domain, hosts: new Set(), categories: new Set(), total: empty(), cells: new Map() };
    row.hosts.add(c.host);
    if (c.category) row.categories.add(c.category);
    const cell = row.cells.get(c.kind) ?? empty();
    for (const t of [cell, row.total]) {
      t[c.outcome] += c.count;
      t.firstSeen = Math.min(t.firstSeen, c.firstSeen);
      t.lastSeen = Math.max(t.lastSeen, c.lastSeen);
    }
    row.cells.set(c.kind, cell);
    rows.set(key, row);
    const k = kinds.get(c.kind) ?? empty();
    k[c.outcome] += c.count;
    kinds.set(c.kind, k);
  }
  const weight = (t) => t.sent * 1e6 + t.prevented * 1e3 + t.answered + t.held;
  return {
    rows: [...rows.values()].sort((a, b) => weight(b.total) - weight(a.total) || a.key.localeCompare(b.key)),
    kinds: [...kinds.entries()].sort((a, b) => weight(b[1]) - weight(a[1]) || a[0].localeCompare(b[0])).map(([k]) => k),
  };
}

function PartyCell({ r }) {
  const hosts = [...r.hosts].sort();
  return html`<th scope="row" class="party">
    ${r.party === null
      ? html`<span class="name">${r.domain}</span> <span class="chip review" title="No rule pack knows this host: look at what it received">no rule — review</span>`
      : html`<span class="dot" style=${`background:${partyColor(r.party)}`} aria-hidden="true"></span><span class="name" title=${r.party}>${r.party}</span> ${[...r.categories].map((c) => categoryChip(c))}`}
    <small class="hosts">${r.party === null ? '' : `${r.domain}${hosts.length > 1 || hosts[0] !== r.domain ? ': ' : ''}`}${hosts.length > 1 || hosts[0] !== r.domain ? hosts.slice(0, 4).join(', ') : ''}${hosts.length > 4 ? ` +${hosts.length - 4}` : ''}</small>
  </th>`;
}

function Cell({ r, kind, view }) {
  const c = r.cells.get(kind);
  if (!c) return html`<td class="zero"></td>`;
  const main = c[view];
  const others = OUTCOMES.filter((o) => o !== view && c[o] > 0);
  const who = r.party ?? r.domain;
  const title = `${kind} → ${who}\n${OUTCOMES.map((o) => `${LABEL[o]}: ${c[o]}`).join(' · ')}\nfirst seen ${fmtDateTime(c.firstSeen)}\nlast seen ${fmtDateTime(c.lastSeen)}`;
  // The exchanges behind the cell: the party's, or (no rule) the hosts' by search.
  const link = r.party !== null
    ? hashFor('live', { party: r.party, kind, ...(r.hosts.size === 1 ? { host: [...r.hosts][0] } : {}) })
    : hashFor('live', { kind, ...(r.hosts.size === 1 ? { host: [...r.hosts][0] } : { q: r.domain }) });
  return html`<td class=${`cell ${main > 0 ? `has-${view}` : 'none'}`} data-party=${r.party ?? ''} data-domain=${r.domain} data-kind=${kind}
      data-sent=${c.sent} data-answered=${c.answered} data-prevented=${c.prevented} data-held=${c.held} title=${title}>
    <a href=${link} aria-label=${`${main} ${LABEL[view]}: ${kind}, ${who}`}>${main > 0 ? main : '–'}</a>
    ${others.map((o) => html`<small class=${`o o-${o}`}>${c[o]} ${LABEL[o]}</small>`)}
    <small class="seen">${fmtShort(c.firstSeen)} – ${fmtShort(c.lastSeen)}</small></td>`;
}

export function WhoView() {
  const [cells, setCells] = useState(null);
  const [error, setError] = useState(null);
  const [view, setView] = useState('sent');
  const [session, setSessionState] = useState(currentSession());

  useEffect(() => subscribeSession(setSessionState), []);
  useEffect(() => {
    let timer = null;
    let alive = true;
    let retry = null;
    const load = () => getJSON('/api/exposure', { session }).then(
      (r) => alive && (setCells(r.cells), setError(null)),
      // Retries on its own while leakwatch is down.
      (e) => alive && (setError(e.message), clearTimeout(retry), (retry = setTimeout(load, 3000))),
    );
    load();
    const off = subscribe(() => {
      if (!timer) timer = setTimeout(() => ((timer = null), load()), 1000);
    });
    return () => {
      alive = false;
      off();
      clearTimeout(timer);
      clearTimeout(retry);
    };
  }, [session]);

  if (!cells) return error ? html`<p class="error">${error}</p>` : html`<p class="muted">Loading…</p>`;
  if (!cells.length) {
    return html`<section><h2>Who knows what</h2>
      <p class="empty">No personal data has been seen leaving yet. Watch <a href="#/live">Live</a> or follow <a href="#/setup">Setup</a>.</p></section>`;
  }
  const { rows, kinds } = pivot(cells);
  const review = rows.filter((r) => r.party === null && r.total.sent > 0).length;
  return html`<section class="who">
    <div class="toolbar"><h2>Who knows what</h2>
      <div class="seg" role="group" aria-label="Show">
        ${VIEWS.map(([v, label]) => html`<button type="button" class=${v === view ? 'on' : ''} aria-pressed=${v === view ? 'true' : 'false'} onClick=${() => setView(v)}>${label}</button>`)}
      </div></div>
    ${error ? html`<p class="error">${error}</p>` : null}
    <p class="muted">${`Each cell counts findings of that kind for that party. ${EXPLAIN[view]} Click a count to see the exchanges.`}</p>
    ${review ? html`<p class="warn">${review} host${review === 1 ? '' : 's'} no rule knows received personal data: marked “no rule — review”.</p>` : null}
    <div class="table-wrap matrix-wrap" tabindex="0" role="region" aria-label="Parties and the personal data they received"><table class="matrix">
      <thead><tr><th scope="col" class="party">Party</th>${kinds.map((k) => html`<th scope="col" class="kind-col"><span>${k}</span></th>`)}</tr></thead>
      <tbody>${rows.map((r) => html`<tr class=${r.party === null ? 'unruled' : ''} data-row=${r.key}>
        <${PartyCell} r=${r} />
        ${kinds.map((k) => html`<${Cell} r=${r} kind=${k} view=${view} />`)}
      </tr>`)}</tbody>
    </table></div>
  </section>`;
}
