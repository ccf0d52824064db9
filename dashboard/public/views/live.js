// Live: the stream, newest first, with pause, filters and paging. Filters live in the URL
// (#/live?party=…&kind=…) so a "Who knows what" cell can open the exchanges behind it.
// With any filter or search on, the rows are exactly what the store answers for /api/flows (the
// whole store, paged); the browser never filters them again. Without filters the list is the
// stream plus older pages loaded on request.
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { getJSON, withQuery } from '../api.js';
import { currentSession, liveState, loadOlder, subscribe, subscribeSession } from '../live-state.js';
import { categoryChip, fmtHost, fmtTime, hashFor, kindChips, verdictChip, wsChip } from '../format.js';

export const FILTERS = ['party', 'category', 'kind', 'type', 'verdict', 'host', 'q'];
const PAGE = 300;
const SHOWN_MAX = 3000;
const nf = new Intl.NumberFormat('en');

function useVersion(sub) {
  const [, setV] = useState(0);
  useEffect(() => sub(() => setV((v) => v + 1)), []);
}

function setFilter(params, key, value) {
  location.replace(hashFor('live', { ...params, [key]: value }));
}

function useFacets() {
  const [facets, setFacets] = useState({ parties: [], categories: [], kinds: [], types: [], verdicts: [] });
  useEffect(() => {
    getJSON('/api/facets').then(setFacets, () => undefined);
  }, []);
  return facets;
}

function FilterBar({ params, facets }) {
  const [show, setShow] = useState(false);
  const select = (key, label, options) => html`<label>${label}
    <select value=${params[key] || ''} onChange=${(e) => setFilter(params, key, e.currentTarget.value)}>
      <option value="">any</option>
      ${[...new Set([...options, ...(params[key] ? [params[key]] : [])])].map((o) => html`<option value=${o}>${o}</option>`)}
    </select></label>`;
  const input = (key, label, ph) => html`<label>${label}
    <input type="search" placeholder=${ph} value=${params[key] || ''}
      onInput=${(e) => setFilter(params, key, e.currentTarget.value)} /></label>`;
  const set = FILTERS.filter((k) => k !== 'q' && params[k]).length;
  // On a phone the dropdowns fold behind one button; the search field always shows.
  return html`<div class=${`filters ${show ? 'show' : ''}`} role="search">
    ${input('q', 'Search', 'host, path, value…')}
    <button type="button" class="filters-toggle" aria-expanded=${show ? 'true' : 'false'} onClick=${() => setShow(!show)}>Filters${set ? ` (${set})` : ''}</button>
    <span class="more">
    ${select('party', 'Party', facets.parties)} ${select('category', 'Category', facets.categories)}
    ${select('kind', 'Kind', facets.kinds)} ${select('type', 'Type', facets.types)} ${select('verdict', 'Verdict', facets.verdicts)}
    ${input('host', 'Host', 'exact host')}
    </span>
    ${FILTERS.some((k) => params[k]) ? html`<button type="button" onClick=${() => location.replace('#/live')}>Clear</button>` : null}
  </div>`;
}

/** Server-side results for a filter: first page with a count, then "load older". */
function useSearch(query, active) {
  const [res, setRes] = useState({ flows: [], total: null, capped: false, done: false, loading: false, error: null });
  const key = JSON.stringify(query);
  const live = liveState();
  useEffect(() => {
    if (!active) return undefined;
    let alive = true;
    setRes((r) => ({ ...r, loading: true }));
    const t = setTimeout(() => {
      getJSON('/api/flows', { ...query, limit: PAGE, count: 1 }).then(
        // A refresh of the same search keeps the older pages already loaded below the first.
        (r) => alive && setRes((x) => {
          const oldest = r.flows[r.flows.length - 1]?.id ?? Infinity;
          const kept = x.key === key ? x.flows.filter((f) => f.id < oldest) : [];
          return { key, flows: [...r.flows, ...kept], total: r.total, capped: r.totalCapped, done: kept.length ? x.done : r.flows.length < PAGE, loading: false, error: null };
        }),
        (e) => alive && setRes((x) => ({ ...x, loading: false, error: e.message })),
      );
    }, 200);
    return () => {
      alive = false;
      clearTimeout(t);
    };
    // New exchanges on the stream may match: the first page is asked again (at most every 2 s).
  }, [key, active, active ? Math.floor(live.version / 20) : 0]);
  const more = () => {
    const last = res.flows[res.flows.length - 1];
    setRes((r) => ({ ...r, loading: true }));
    getJSON('/api/flows', { ...query, limit: PAGE, before: last?.id }).then(
      (r) => setRes((x) => ({ ...x, flows: [...x.flows, ...r.flows], done: r.flows.length < PAGE, loading: false })),
      (e) => setRes((x) => ({ ...x, loading: false, error: e.message })),
    );
  };
  return [res, more];
}

function Row({ f }) {
  const tls = f.type === 'tls-failure';
  const cls = `sev-${f.severity} ${f.kinds?.length ? 'leaky' : ''} ${tls ? 'tls-fail' : ''} ${String(f.verdict).startsWith('would-') ? 'would' : ''}`;
  const open = () => (location.hash = `#/flow/${f.id}`);
  return html`<tr key=${f.id} class=${cls} data-id=${f.id} onClick=${open}>
    <td class="nowrap c-time"><a class="row-link" href=${`#/flow/${f.id}`} onClick=${(e) => e.stopPropagation()}
      aria-label=${`${f.method} ${f.host}${f.path}, ${fmtTime(f.time)}`}>${fmtTime(f.time)}</a></td>
    <td class="c-client">${f.client}</td><td class="c-method">${f.method}</td>
    <td class="host c-host">${fmtHost(f.host)}</td><td class="path c-path" title=${f.path}>${wsChip(f)} ${f.path}</td>
    <td class="party c-party" title=${f.party ?? ''}>${f.party ?? html`<span class="muted">no rule</span>`}</td>
    <td class="c-cat">${categoryChip(f.category, f.firstParty)}</td>
    <td class="kinds c-kinds">${kindChips(f.kinds)}</td><td class="c-verdict">${tls ? html`<span class="muted">—</span>` : verdictChip(f.verdict)}</td>
    <td class="c-status">${tls ? html`<span class="chip tls">TLS failure</span>` : (f.status ?? f.error ?? '')}</td></tr>`;
}

export function LiveView({ params }) {
  useVersion(subscribe);
  useVersion(subscribeSession);
  const live = liveState();
  const facets = useFacets();
  const session = currentSession();
  const [frozen, setFrozen] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const query = Object.fromEntries(FILTERS.filter((k) => params[k]).map((k) => [k, params[k]]));
  const active = Object.keys(query).length > 0;
  const sessionName = session ? live.sessions?.find((s) => String(s.id) === session)?.name : null;
  const [search, more] = useSearch({ ...query, session }, active);

  // Without filters: the live list (optionally one session) and the store's total.
  const [total, setTotal] = useState(null);
  useEffect(() => {
    if (active) return;
    getJSON('/api/flows', { limit: 1, count: 1, session }).then((r) => setTotal(r.totalCapped ? null : r.total), () => undefined);
  }, [active, session, Math.floor(live.version / 20)]);

  const source = frozen ?? live.flows;
  const rows = active ? search.flows : session ? source.filter((f) => f.session === sessionName) : source;
  const count = active ? search.total : total;
  const capped = active ? search.capped : false;
  const complete = active ? search.done : live.complete;
  const newSincePause = frozen ? live.flows.filter((f) => f.id > (frozen[0]?.id ?? -1)).length : 0;
  const older = () => {
    if (active) return more();
    setBusy(true);
    loadOlder().then(() => (setBusy(false), setError(null)), (e) => (setBusy(false), setError(e.message)));
  };
  const exportHref = (format) => withQuery('/api/export', { ...query, session, format });

  return html`<section class="live">
    <div class="toolbar">
      <h2>Live</h2>
      <button type="button" class=${frozen ? 'paused' : ''} aria-pressed=${frozen ? 'true' : 'false'}
        onClick=${() => setFrozen(frozen ? null : live.flows)}>${frozen ? `Resume (${newSincePause} new)` : 'Pause'}</button>
      <span class="counts" aria-live="polite">${nf.format(rows.length)} of ${count === null || count === undefined ? '…' : `${nf.format(count)}${capped ? '+' : ''}`}${active ? ' matches' : ''} loaded</span>
      ${live.gaps ? html`<span class="warn">${live.gaps} skipped while this tab was slow; reload to catch up</span>` : null}
      <span class="export">Export <a href=${exportHref('har')} download>HAR</a> <a href=${exportHref('jsonl')} download>JSONL</a>
        <a href=${exportHref('csv')} download>CSV</a></span>
    </div>
    <${FilterBar} params=${params} facets=${facets} />
    ${search.error || error ? html`<p class="error">${search.error || error}</p>` : null}
    <div class="table-wrap"><table class="flows">
      <caption class="sr-only">Exchanges, newest first</caption>
      <thead><tr><th>Time</th><th>Client</th><th>Method</th><th>Host</th><th>Path</th><th>Party</th>
        <th>Category</th><th>Kinds</th><th>Verdict</th><th>Status</th></tr></thead>
      <tbody>${rows.slice(0, SHOWN_MAX).map((f) => html`<${Row} key=${f.id} f=${f} />`)}</tbody>
    </table></div>
    ${rows.length && !complete ? html`<p><button type="button" class="older" disabled=${busy || search.loading} onClick=${older}>Load older</button></p>` : null}
    ${rows.length === 0 && active && !search.loading ? html`<p class="empty">No stored exchange matches these filters.</p>` : null}
    ${rows.length === 0 && !active ? html`<p class="empty">Nothing yet. Point a client at the proxy (see <a href="#/setup">Setup</a>); exchanges appear here within a second.</p>` : null}
  </section>`;
}
