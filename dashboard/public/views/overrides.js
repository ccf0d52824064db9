// Overrides: what the dashboard (and the command line) changed on top of the rule packs: rule
// actions, blocked hosts, allowed clients, saved hold decisions. Listed with remove buttons, plus
// small forms to block a host (or host + path) and to allow a client.
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { getJSON, sendJSON } from '../api.js';
import { chip, fmtDateTime } from '../format.js';

const KIND_LABEL = { 'rule-action': 'rule action', block: 'blocked host', 'allow-client': 'allowed client', 'hold-decision': 'saved decision' };

export function OverridesView() {
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const [host, setHost] = useState('');
  const [client, setClient] = useState('');
  const load = () => getJSON('/api/overrides').then((r) => setList(r.overrides), (e) => setError(e.message));
  useEffect(() => {
    load();
  }, []);
  const run = (p) => {
    setError(null);
    return p.then(load, (e) => setError(e.message));
  };
  const remove = (id) => run(sendJSON('DELETE', `/api/overrides/${encodeURIComponent(id)}`));
  const addBlock = (ev) => {
    ev.preventDefault();
    if (host.trim()) run(sendJSON('POST', '/api/overrides', { kind: 'block', host: host.trim() }).then(() => setHost('')));
  };
  const addClient = (ev) => {
    ev.preventDefault();
    if (client.trim()) run(sendJSON('POST', '/api/overrides', { kind: 'allow-client', client: client.trim() }).then(() => setClient('')));
  };
  return html`<section class="overrides">
    <div class="toolbar"><h2>Overrides</h2><span class="muted">Applied at once on top of the rule packs; saved in the database.</span></div>
    ${error ? html`<p class="error">${error}</p>` : null}
    <div class="panel forms">
      <form class="inline" onSubmit=${addBlock}><label>Block a host or host/path
        <input name="host" placeholder="tracker.example.org or api.example.org/v1/collect" value=${host} onInput=${(e) => setHost(e.currentTarget.value)} /></label>
        <button type="submit">Block</button></form>
      <form class="inline" onSubmit=${addClient}><label>Never enforce for this client (IP address)
        <input name="client" placeholder="192.168.1.23" value=${client} onInput=${(e) => setClient(e.currentTarget.value)} /></label>
        <button type="submit">Allow client</button></form>
    </div>
    ${list === null ? html`<p class="muted">Loading…</p>` : list.length === 0 ? html`<p class="empty">No overrides: the rule packs apply as written.</p>`
      : html`<div class="table-wrap" tabindex="0" role="region" aria-label="Overrides in force"><table class="overrides-table"><thead><tr><th>What</th><th>Kind</th><th>From</th><th>Added</th><th>Expires</th><th></th></tr></thead>
        <tbody>${list.map((o) => html`<tr data-override=${o.id}>
          <td><code>${o.summary}</code></td><td>${chip(KIND_LABEL[o.kind] || o.kind, 'action')}</td>
          <td>${o.source === 'cli' ? 'command line' : 'dashboard'}</td><td>${o.createdAt ? fmtDateTime(o.createdAt) : '—'}</td>
          <td>${o.expiresAt ? fmtDateTime(o.expiresAt) : 'never'}</td>
          <td>${o.removable ? html`<button class="remove" onClick=${() => remove(o.id)}>Remove</button>` : html`<span class="muted" title="restart without the flag to remove it">fixed</span>`}</td>
        </tr>`)}</tbody></table></div>`}
  </section>`;
}
