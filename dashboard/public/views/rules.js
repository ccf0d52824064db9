// Rules: loaded packs, each rule's category, action and hit counts, and rejected rules.
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { getJSON, sendJSON } from '../api.js';
import { chip, safeLink } from '../format.js';
import { Md } from '../md.js';

const ACTIONS = ['log', 'block', 'neutralize', 'strip', 'hold'];

export function RulesView() {
  const [view, setView] = useState(null);
  const [error, setError] = useState(null);
  const [q, setQ] = useState('');
  const [overrides, setOverrides] = useState([]);
  const load = () =>
    Promise.all([getJSON('/api/rules'), getJSON('/api/overrides').catch(() => ({ overrides: [] }))]).then(([v, o]) => {
      setView(v);
      setOverrides(o.overrides);
    }, (e) => setError(e.message));
  useEffect(() => {
    load();
  }, []);
  // Choosing the pack's own action removes the dashboard override; anything else sets one.
  const setAction = (rule, action) => {
    const mine = overrides.find((o) => o.kind === 'rule-action' && o.ruleId === rule.id && o.removable);
    const pack = rule.packAction ?? rule.action;
    const p = action === pack && mine
      ? sendJSON('DELETE', `/api/overrides/${encodeURIComponent(mine.id)}`)
      : sendJSON('POST', '/api/overrides', { kind: 'rule-action', ruleId: rule.id, action });
    p.then(load, (e) => setError(e.message));
  };
  if (error) return html`<p class="error">${error}</p>`;
  if (!view) return html`<p class="muted">Loading…</p>`;
  const needle = q.toLowerCase();
  // All-time hits come from the store when the caller has them; since-start hits always exist.
  const allTime = view.rules.some((r) => r.hits !== undefined);
  const rules = view.rules.filter((r) => !needle || [r.id, r.party, r.category, r.pack, r.action].some((s) => String(s).toLowerCase().includes(needle)));
  return html`<section class="rules">
    <div class="toolbar"><h2>Rules</h2>${view.mode ? chip(`mode: ${view.mode}`, 'action') : null}
      <input type="search" placeholder="filter rules" value=${q} onInput=${(e) => setQ(e.currentTarget.value)} /></div>
    ${view.mode === 'observe' ? html`<p class="note-observe">Observe mode: nothing is blocked, stripped or held; rule actions and overrides are recorded as <b>would-</b> verdicts and apply when leakwatch runs with <code>--mode enforce</code>.</p>` : null}
    ${overrides.length ? html`<div class="panel saved-overrides"><h3>Saved overrides (${overrides.length})</h3><ul>
      ${overrides.map((o) => html`<li><code>${o.summary}</code> <span class="muted">${o.source === 'cli' ? 'command line' : 'dashboard'}${view.mode === 'observe' ? ' · applies in enforce mode' : ''}</span></li>`)}</ul>
      <p class="muted">Change them under <a href="#/overrides">Overrides</a>.</p></div>` : null}
    ${view.rejected?.length ? html`<div class="panel rejected"><h3>Rejected (${view.rejected.length})</h3><ul>
      ${view.rejected.map((r) => html`<li><code>${r.message}</code></li>`)}</ul></div>` : null}
    <div class="panel"><h3>Packs</h3><table class="packs"><thead><tr><th>Pack</th><th>Rules</th><th>Description</th></tr></thead>
      <tbody>${view.packs.map((p) => html`<tr><td><b>${p.pack}</b><br /><small class="muted">${p.file}</small></td><td class="num">${p.rules}</td>
        <td><small>${p.description}</small></td></tr>`)}</tbody></table></div>
    <p class="muted">${rules.length} of ${view.rules.length} rules. Open a rule for what it means, its source and what to do.</p>
    <div class="table-wrap" tabindex="0" role="region" aria-label="Rules"><table class="rules-table">
      <thead><tr><th>Rule</th><th>Party</th><th>Category</th><th>Action</th><th>Severity</th>${allTime ? html`<th>Hits</th>` : null}<th>Hits since start</th></tr></thead>
      <tbody>${rules.map((r) => html`<tr data-rule=${r.id}>
        <td class="rule-cell"><details><summary><code>${r.id}</code> <small class="muted">${r.pack}</small></summary>
          ${r.explain ? html`<p><${Md} text=${r.explain} /></p>` : null}
          <p><b>Why: </b><${Md} text=${r.why} /></p><p><b>Source: </b>${safeLink(r.cite)}</p><p><b>What to do: </b><${Md} text=${r.remediation} /></p>
        </details></td>
        <td class="party" title=${r.party}>${r.party}</td>
        <td>${chip(r.category, `cat cat-${r.category}`)}</td><td class="action-cell"><select class="action-select" aria-label=${`action for ${r.id}`} value=${r.action} onChange=${(e) => setAction(r, e.currentTarget.value)}>
          ${ACTIONS.map((a) => html`<option value=${a} selected=${a === r.action}>${a}</option>`)}</select>
          ${r.packAction ? html`<small class="muted" title=${`the pack says ${r.packAction}`}> (pack: ${r.packAction})</small>` : null}</td>
        <td>${chip(r.severity, `sev sev-${r.severity}`)}</td>${allTime ? html`<td class="num">${r.hits ?? 0}</td>` : null}<td class="num">${r.hitsSinceStart}</td></tr>`)}</tbody>
    </table></div>
  </section>`;
}
