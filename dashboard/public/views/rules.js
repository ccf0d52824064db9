// Rules: loaded packs, each rule's category, action and hit counts, and rejected rules.
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { getJSON } from '../api.js';
import { chip, safeLink } from '../format.js';

export function RulesView() {
  const [view, setView] = useState(null);
  const [error, setError] = useState(null);
  const [q, setQ] = useState('');
  useEffect(() => {
    getJSON('/api/rules').then(setView, (e) => setError(e.message));
  }, []);
  if (error) return html`<p class="error">${error}</p>`;
  if (!view) return html`<p class="muted">Loading…</p>`;
  const needle = q.toLowerCase();
  // All-time hits come from the store when the caller has them; since-start hits always exist.
  const allTime = view.rules.some((r) => r.hits !== undefined);
  const rules = view.rules.filter((r) => !needle || [r.id, r.party, r.category, r.pack, r.action].some((s) => String(s).toLowerCase().includes(needle)));
  return html`<section class="rules">
    <div class="toolbar"><h2>Rules</h2>${view.mode ? chip(`mode: ${view.mode}`, 'action') : null}
      <input type="search" placeholder="filter rules" value=${q} onInput=${(e) => setQ(e.currentTarget.value)} /></div>
    ${view.rejected?.length ? html`<div class="panel rejected"><h3>Rejected (${view.rejected.length})</h3><ul>
      ${view.rejected.map((r) => html`<li><code>${r.message}</code></li>`)}</ul></div>` : null}
    <div class="panel"><h3>Packs</h3><table class="packs"><thead><tr><th>Pack</th><th>Rules</th><th>Description</th></tr></thead>
      <tbody>${view.packs.map((p) => html`<tr><td><b>${p.pack}</b><br /><small class="muted">${p.file}</small></td><td class="num">${p.rules}</td>
        <td><small>${p.description}</small></td></tr>`)}</tbody></table></div>
    <p class="muted">${rules.length} of ${view.rules.length} rules. Open a rule for what it means, its source and what to do.</p>
    <div class="table-wrap"><table class="rules-table">
      <thead><tr><th>Rule</th><th>Party</th><th>Category</th><th>Action</th><th>Severity</th>${allTime ? html`<th>Hits</th>` : null}<th>Hits since start</th></tr></thead>
      <tbody>${rules.map((r) => html`<tr data-rule=${r.id}>
        <td class="rule-cell"><details><summary><code>${r.id}</code> <small class="muted">${r.pack}</small></summary>
          ${r.explain ? html`<p>${r.explain}</p>` : null}
          <p><b>Why: </b>${r.why}</p><p><b>Source: </b>${safeLink(r.cite)}</p><p><b>What to do: </b>${r.remediation}</p>
        </details></td>
        <td class="party" title=${r.party}>${r.party}</td>
        <td>${chip(r.category, `cat cat-${r.category}`)}</td><td>${chip(r.action, 'action')}</td>
        <td>${chip(r.severity, `sev sev-${r.severity}`)}</td>${allTime ? html`<td class="num">${r.hits ?? 0}</td>` : null}<td class="num">${r.hitsSinceStart}</td></tr>`)}</tbody>
    </table></div>
  </section>`;
}
