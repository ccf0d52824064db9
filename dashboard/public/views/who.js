// Who knows what: third parties (rows) x kinds of personal data (columns). Each cell counts the
// exchanges and opens them in Live. Refreshed as the stream brings new exchanges (at most 1/s).
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { getJSON } from '../api.js';
import { subscribe } from '../live-state.js';
import { categoryChip, fmtDateTime, fmtShort, hashFor } from '../format.js';

const NO_RULE = '(no rule matched)';

export function pivot(cells) {
  const parties = new Map();
  const kinds = new Map();
  for (const c of cells) {
    const party = c.party ?? NO_RULE;
    const row = parties.get(party) ?? { party, rawParty: c.party, categories: new Set(), total: 0, cells: new Map() };
    if (c.category) row.categories.add(c.category);
    row.total += c.count;
    const prev = row.cells.get(c.kind);
    row.cells.set(c.kind, prev
      ? { count: prev.count + c.count, firstSeen: Math.min(prev.firstSeen, c.firstSeen), lastSeen: Math.max(prev.lastSeen, c.lastSeen) }
      : { count: c.count, firstSeen: c.firstSeen, lastSeen: c.lastSeen });
    parties.set(party, row);
    kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + c.count);
  }
  return {
    rows: [...parties.values()].sort((a, b) => b.total - a.total || a.party.localeCompare(b.party)),
    kinds: [...kinds.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k),
  };
}

export function WhoView() {
  const [cells, setCells] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    let timer = null;
    let alive = true;
    const load = () => getJSON('/api/summary').then((r) => alive && setCells(r.cells), (e) => alive && setError(e.message));
    load();
    const off = subscribe(() => {
      if (!timer) timer = setTimeout(() => ((timer = null), load()), 800);
    });
    return () => {
      alive = false;
      off();
      clearTimeout(timer);
    };
  }, []);

  if (error) return html`<p class="error">${error}</p>`;
  if (!cells) return html`<p class="muted">Loading…</p>`;
  if (!cells.length) {
    return html`<section><h2>Who knows what</h2>
      <p class="empty">No personal data has been seen leaving yet. Watch <a href="#/live">Live</a> or follow <a href="#/setup">Setup</a>.</p></section>`;
  }
  const { rows, kinds } = pivot(cells);
  return html`<section class="who">
    <h2>Who knows what</h2>
    <p class="muted">Each cell counts the exchanges in which a party received that kind of personal data, with when it was first and last seen. Click a count to see the exchanges.</p>
    <div class="table-wrap"><table class="matrix">
      <thead><tr><th>Party</th>${kinds.map((k) => html`<th class="kind-col"><span>${k}</span></th>`)}</tr></thead>
      <tbody>${rows.map((r) => html`<tr>
        <th class="party"><span class="name" title=${r.party}>${r.party}</span> ${[...r.categories].map((c) => categoryChip(c))}</th>
        ${kinds.map((k) => {
          const c = r.cells.get(k);
          if (!c) return html`<td class="zero"></td>`;
          const title = `${c.count} × ${k} → ${r.party}\nfirst seen ${fmtDateTime(c.firstSeen)}\nlast seen ${fmtDateTime(c.lastSeen)}`;
          return html`<td class="cell" data-party=${r.party} data-kind=${k} title=${title}>
            <a href=${hashFor('live', { party: r.rawParty ?? '', kind: k })}>${c.count}</a>
            <small>${fmtShort(c.firstSeen)} – ${fmtShort(c.lastSeen)}</small></td>`;
        })}
      </tr>`)}</tbody>
    </table></div>
  </section>`;
}
