// Report: the privacy report of one session, as `leakwatch report` writes it (same JSON, drawn
// here), with a download button per format. Captured strings are rendered as text only.
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { getJSON } from '../api.js';

const when = (iso) => (iso ? `${iso.slice(0, 19).replace('T', ' ')} UTC` : '—');
const title = (p) => `${p.name ?? 'no rule'} — ${p.domain}`;
// Rule texts mark settings as `code` (as the HTML and Markdown reports show them).
const ruleText = (s) => s.split(/(`[^`\n]+`)/).filter(Boolean).map((t) => (/^`[^`]+`$/.test(t) ? html`<code>${t.slice(1, -1)}</code>` : t));
const FORMATS = [['html', 'HTML'], ['md', 'Markdown'], ['json', 'JSON']];

function downloadHref(session, format) {
  const q = new URLSearchParams({ format, download: '1' });
  if (session) q.set('session', session);
  return `/api/report?${q}`;
}

function Kinds({ kinds }) {
  if (!kinds.length) return html`<p class="muted">No personal data found in these exchanges.</p>`;
  return html`<table class="report-kinds"><thead><tr><th>data</th><th>sent</th><th>answered</th><th>prevented</th></tr></thead>
    <tbody>${kinds.map((k) => html`<tr><td>${k.kind}</td><td class="num">${k.sent}</td><td class="num">${k.answered}</td><td class="num">${k.prevented}</td></tr>`)}</tbody></table>`;
}

function Party({ p }) {
  return html`<section class="panel report-party" id=${`report-${p.anchor}`}>
    <h3>${title(p)} <span class=${`chip sev-${p.severity}`}>${p.severity}</span></h3>
    <table class="kv report-facts"><tbody>
      <tr><th>Hosts</th><td>${p.hosts.join(', ')}</td></tr>
      <tr><th>Exchanges</th><td>${p.exchanges} (${p.reached} reached it)</td></tr>
      <tr><th>Seen</th><td>${when(p.firstSeen)} to ${when(p.lastSeen)}</td></tr>
      <tr><th>Clients</th><td>${p.clients.map((c) => `${c.address || '—'} (${c.exchanges})`).join(', ') || '—'}</td></tr>
      <tr><th>User agents</th><td>${p.userAgents.map((u) => `${u.family} (${u.exchanges})`).join(', ') || '—'}</td></tr>
    </tbody></table>
    <${Kinds} kinds=${p.kinds} />
    ${p.rules.map((r) => html`<div class="report-rule">
      ${r.why ? html`<p><strong>Why it matters:</strong> ${ruleText(r.why)}</p>` : null}
      <p class="report-stop"><strong>What stops it:</strong> ${r.remediation ? ruleText(r.remediation) : 'this rule is not in the loaded packs'}</p>
      ${r.cite ? html`<p class="muted">Source: ${r.cite} · rule ${r.id}</p>` : null}
    </div>`)}
    ${p.rules.length ? null : html`<p class="report-stop"><strong>What stops it:</strong> no rule describes this host; block it (Overrides) or find the setting that contacts it.</p>`}
    ${p.evidence.length ? html`<h4>Evidence</h4><ol class="report-evidence">${p.evidence.map((e) => html`<li>
      <a href=${`#/flow/${e.id}`}><code>${e.method} ${e.url}</code></a> <span class="muted">${e.status ?? 'no response'}, ${e.verdict}, ${when(e.time)}</span>
      <ul>${e.findings.map((f) => html`<li>${f.kind}: <mark class="leak"><code>${f.value}</code></mark>${f.masked ? ' (masked)' : ''} in <code>${f.where}</code></li>`)}</ul>
    </li>`)}</ol>` : null}
  </section>`;
}

function Contacts({ list, empty }) {
  if (!list.length) return html`<p class="muted">${empty}</p>`;
  return html`<ul>${list.map((c) => html`<li><strong>${title(c)}</strong>: ${c.count} to ${c.hosts.join(', ')}, ${when(c.firstSeen)} to ${when(c.lastSeen)}${
    c.kinds.length ? `; learns ${c.kinds.map((k) => k.kind).join(', ')}` : ''}${c.remediation ? html`<br /><span class="muted">${ruleText(c.remediation)}</span>` : null}</li>`)}</ul>`;
}

export function ReportView() {
  const [sessions, setSessions] = useState(null);
  const [session, setSession] = useState('');
  const [report, setReport] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    getJSON('/api/sessions').then((r) => {
      setSessions(r.sessions);
      // Newest first; the running capture may still be empty, so start on the newest with data.
      const first = r.sessions.find((x) => x.flows > 0) ?? r.sessions[0];
      if (first) setSession(first.name);
    }, (e) => setError(e.message));
  }, []);

  useEffect(() => {
    if (!session) return;
    let alive = true;
    setReport(null);
    setError(null);
    getJSON('/api/report', { session, format: 'json' }).then((r) => alive && setReport(r), (e) => alive && setError(e.message));
    return () => { alive = false; };
  }, [session]);

  return html`<section class="report">
    <div class="toolbar report-bar"><h2>Report</h2>
      <label>Session <select value=${session} onChange=${(e) => setSession(e.currentTarget.value)}>
        ${(sessions ?? []).map((s) => html`<option value=${s.name}>${s.name} (${s.flows})</option>`)}
      </select></label>
      ${FORMATS.map(([f, label]) => html`<a class="download" href=${downloadHref(session, f)} download>Download ${label}</a>`)}
    </div>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${sessions && !sessions.length ? html`<p class="muted">No sessions recorded yet.</p>` : null}
    ${report ? html`
      <section class="panel" id="report-summary"><h2>Summary</h2>
        <p>${report.summary.parties} third ${report.summary.parties === 1 ? 'party' : 'parties'} contacted; data that left: ${
          report.summary.kinds.filter((k) => k.sent > 0).map((k) => `${k.kind} (${k.sent})`).join(', ') || 'none'}.</p>
        ${report.summary.worst.length ? html`<table><thead><tr><th>severity</th><th>party</th><th>data</th><th>sent</th><th>prevented</th></tr></thead><tbody>
          ${report.summary.worst.map((w) => html`<tr><td><span class=${`chip sev-${w.severity}`}>${w.severity}</span></td><td>${title(w)}</td><td>${w.kind}</td><td class="num">${w.sent}</td><td class="num">${w.prevented}</td></tr>`)}
        </tbody></table>` : null}
      </section>
      <h2 id="report-parties">Third parties</h2>
      ${report.parties.map((p) => html`<${Party} p=${p} key=${p.anchor} />`)}
      <section class="panel" id="report-dns"><h2>DNS-only contacts</h2><${Contacts} list=${report.dnsOnly} empty="None." /></section>
      <section class="panel" id="report-stun"><h2>STUN-only contacts</h2><${Contacts} list=${report.stunOnly} empty="None." /></section>
      <section class="panel" id="report-tls"><h2>TLS failures</h2>${report.tlsFailures.length ? html`<ul>${report.tlsFailures.map((t) => html`<li><strong>${t.host}</strong>: ${t.count} from ${t.clients.join(', ')} (${t.errors.join(', ')})</li>`)}</ul>` : html`<p class="muted">None.</p>`}</section>
      <section class="panel" id="report-method"><h2>Method</h2><p class="muted">leakwatch ${report.method.leakwatchVersion}; packs ${report.method.packs.map((p) => p.pack).join(', ')}; ${when(report.method.window.from)} to ${when(report.method.window.to)}; mode ${report.method.mode}; ${report.method.exchanges} exchanges, ${report.method.findings} findings.</p></section>
    ` : session && !error ? html`<p class="muted">Building the report…</p>` : null}
  </section>`;
}
