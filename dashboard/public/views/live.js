// Live: the stream as a table, newest first, with pause and filters. Filters live in the URL
// (#/live?party=…&kind=…) so a "Who knows what" cell can open the exchanges behind it.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { getJSON } from '../api.js';
import { liveState, subscribe } from '../live-state.js';
import { categoryChip, fmtHost, fmtTime, hashFor, kindChips, verdictChip } from '../format.js';

const FILTERS = ['party', 'category', 'kind', 'host', 'q'];
const SHOWN_MAX = 500;

function matches(f, flt) {
  const low = (s) => String(s ?? '').toLowerCase();
  if (flt.party && low(f.party) !== low(flt.party)) return false;
  if (flt.category && f.category !== flt.category) return false;
  if (flt.kind && !(f.kinds || []).includes(flt.kind)) return false;
  if (flt.host && !low(f.host).includes(low(flt.host))) return false;
  if (flt.q) {
    const q = low(flt.q);
    const hay = [f.host, f.path, f.party, f.method, f.client, f.rule, f.category, ...(f.leaks || []).map((l) => l.value)];
    if (!hay.some((h) => low(h).includes(q))) return false;
  }
  return true;
}

function useLiveFlows() {
  const [, setV] = useState(0);
  useEffect(() => subscribe((s) => setV(s.version)), []);
  return liveState();
}

function setFilter(params, key, value) {
  location.replace(hashFor('live', { ...params, [key]: value }));
}

function FilterBar({ params, parties, kinds, categories }) {
  const select = (key, label, options) => html`<label>${label}
    <select value=${params[key] || ''} onChange=${(e) => setFilter(params, key, e.currentTarget.value)}>
      <option value="">any</option>
      ${options.map((o) => html`<option value=${o}>${o}</option>`)}
    </select></label>`;
  const input = (key, label, ph) => html`<label>${label}
    <input type="search" placeholder=${ph} value=${params[key] || ''}
      onInput=${(e) => setFilter(params, key, e.currentTarget.value)} /></label>`;
  return html`<div class="filters">
    ${select('party', 'Party', parties)} ${select('category', 'Category', categories)} ${select('kind', 'Kind', kinds)}
    ${input('host', 'Host', 'host contains')} ${input('q', 'Search', 'host, path, value…')}
    ${FILTERS.some((k) => params[k]) ? html`<button type="button" onClick=${() => location.replace('#/live')}>Clear</button>` : null}
  </div>`;
}

export function LiveView({ params }) {
  const live = useLiveFlows();
  const [frozen, setFrozen] = useState(null);
  const [extra, setExtra] = useState([]);
  const filterKey = FILTERS.map((k) => params[k] || '').join('\u0000');
  const active = FILTERS.some((k) => params[k]);

  // With a filter on, also ask the store: matching exchanges may be older than the live list.
  useEffect(() => {
    if (!active) return void setExtra([]);
    const t = setTimeout(() => {
      const q = Object.fromEntries(FILTERS.map((k) => [k, params[k]]));
      getJSON('/api/flows', { ...q, limit: 500 }).then((r) => setExtra(r.flows), () => setExtra([]));
    }, 250);
    return () => clearTimeout(t);
  }, [filterKey]);

  const source = frozen ?? live.flows;
  const all = useMemo(() => {
    const seen = new Set(source.map((f) => f.id));
    return [...source, ...extra.filter((f) => !seen.has(f.id))].sort((a, b) => b.id - a.id);
  }, [source, extra]);
  const shown = all.filter((f) => matches(f, params));
  const hidden = all.length - shown.length;
  const opts = (pick) => [...new Set(all.flatMap(pick).filter(Boolean))].sort();
  const newSincePause = frozen ? live.flows.filter((f) => f.id > (frozen[0]?.id ?? -1)).length : 0;

  return html`<section class="live">
    <div class="toolbar">
      <h2>Live</h2>
      <button type="button" class=${frozen ? 'paused' : ''} onClick=${() => setFrozen(frozen ? null : live.flows)}>
        ${frozen ? `Resume (${newSincePause} new)` : 'Pause'}
      </button>
      <span class="counts">${shown.length} shown · <span class="hidden-count">${hidden}</span> hidden by filters</span>
      ${live.gaps ? html`<span class="warn">${live.gaps} skipped while this tab was slow; reload to catch up</span>` : null}
    </div>
    <${FilterBar} params=${params} parties=${opts((f) => [f.party])} categories=${opts((f) => [f.category])}
      kinds=${opts((f) => f.kinds || [])} />
    <div class="table-wrap"><table class="flows">
      <thead><tr><th>Time</th><th>Client</th><th>Method</th><th>Host</th><th>Path</th><th>Party</th>
        <th>Category</th><th>Kinds</th><th>Verdict</th><th>Status</th></tr></thead>
      <tbody>
        ${shown.slice(0, SHOWN_MAX).map((f) => html`<tr key=${f.id} class=${`sev-${f.severity} ${f.kinds?.length ? 'leaky' : ''}`}
            data-id=${f.id} onClick=${() => (location.hash = `#/flow/${f.id}`)}>
          <td class="nowrap">${fmtTime(f.time)}</td><td>${f.client}</td><td>${f.method}</td>
          <td class="host">${fmtHost(f.host)}</td><td class="path" title=${f.path}>${f.path}</td>
          <td class="party" title=${f.party ?? ''}>${f.party ?? ''}</td><td>${categoryChip(f.category, f.firstParty)}</td>
          <td class="kinds">${kindChips(f.kinds)}</td><td>${verdictChip(f.verdict)}</td>
          <td>${f.status ?? f.error ?? ''}</td></tr>`)}
      </tbody>
    </table></div>
    ${shown.length > SHOWN_MAX ? html`<p class="muted">Showing the newest ${SHOWN_MAX}; narrow the filters to see more.</p>` : null}
    ${all.length === 0 ? html`<p class="empty">Nothing yet. Point a client at the proxy (see <a href="#/setup">Setup</a>); exchanges appear here within a second.</p>` : null}
  </section>`;
}
