// Health: is leakwatch keeping up? Flows/s, queue depths, drops, uptime and version, every 2 s.
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { getJSON } from '../api.js';

const dur = (s) => {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${d ? `${d}d ` : ''}${h}h ${m}m ${Math.floor(s % 60)}s`;
};

const card = (label, value, warn) => html`<div class=${`card ${warn ? 'warn' : ''}`}><div class="v">${value}</div><div class="l">${label}</div></div>`;

export function HealthView() {
  const [h, setH] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    // Polled, so it recovers by itself when leakwatch comes back.
    const load = () => getJSON('/api/health').then((x) => (setH(x), setError(null)), (e) => setError(e.message));
    load();
    const t = setInterval(load, 2000);
    return () => clearInterval(t);
  }, []);
  if (!h) return error ? html`<p class="error">${error}</p>` : html`<p class="muted">Loading…</p>`;
  const r = h.recorder || {};
  const s = h.stream || {};
  return html`<section class="health">
    <h2>Health</h2>
    ${error ? html`<p class="error">${error}</p>` : null}
    <div class="cards">
      ${card('flows / s (10 s average)', h.flowsPerSecond)}
      ${card('pipeline queue', h.queueDepth, h.queueDepth > 1000)}
      ${card('recorder queue', r.queued ?? '—', r.queued > 1000)}
      ${card('dropped records', h.dropped, h.dropped > 0)}
      ${card('records written', r.written ?? '—')}
      ${card('exchanges stored', h.store?.exchanges ?? '—')}
      <a class=${`card link ${h.store?.tlsFailures > 0 ? 'warn' : ''}`} href="#/live?type=tls-failure"><div class="v">${h.store?.tlsFailures ?? 0}</div>
        <div class="l">TLS failures (clients that refuse the CA or pin certificates)</div></a>
      ${card('write failures', r.failures ?? 0, r.failures > 0)}
      ${card('stream clients', s.clients ?? 0)}
      ${card('uptime', dur(h.uptimeSeconds))}
      ${card('version', h.version)}
    </div>
    ${r.lastError ? html`<p class="error">Last recorder error: ${r.lastError}</p>` : null}
    ${h.extra ? html`<table class="kv"><tbody>${Object.entries(h.extra).map(([k, v]) => html`<tr><th>${k}</th><td>${String(v)}</td></tr>`)}</tbody></table>` : null}
  </section>`;
}
