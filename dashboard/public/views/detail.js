// Exchange detail: headers and decoded bodies with each leaked value marked where it sits, the
// rule that matched (why, citation, remediation) and, for WebSocket messages, the connection.
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { getJSON, sendJSON } from '../api.js';
import { categoryChip, chip, fmtDateTime, fmtHost, fmtTime, kindChips, safeLink, verdictChip, wsChip, wsText } from '../format.js';
import { Highlighted, needles, wireValues } from '../highlight.js';
import { Md } from '../md.js';

export function prettyBody(text, contentType) {
  if (text === null || text === undefined) return null;
  const t = text.trim();
  if (/json/i.test(contentType || '') || t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.stringify(JSON.parse(t), null, 2);
    } catch {
      // not JSON after all: show as sent
    }
  }
  return text;
}

function Body({ body, marks, leaks, where }) {
  if (!body) return html`<p class="muted">No body recorded.</p>`;
  if (!body.stored) return html`<p class="muted">Body of ${body.size} bytes not stored (see --store-bodies).</p>`;
  const meta = html`<p class="muted">${body.contentType || 'unknown type'} · ${body.size} bytes${body.truncated ? ' (truncated)' : ''}</p>`;
  const text = prettyBody(body.text, body.contentType);
  // Where a finding was recorded as what it stands for (a hash resolved to your address), the
  // body's own text at that place is marked too.
  const wire = where ? needles(wireValues(leaks, where, body.text)) : [];
  if (text !== null) return html`${meta}<pre class="body"><${Highlighted} text=${text} values=${wire.length ? [...wire, ...marks] : marks} /></pre>`;
  if (body.base64) return html`${meta}<pre class="body binary">${body.base64}</pre>`;
  return meta;
}

function Headers({ headers, marks }) {
  if (!headers?.length) return html`<p class="muted">No headers recorded.</p>`;
  return html`<table class="headers"><tbody>${headers.map(([k, v]) => html`<tr>
    <th>${k}</th><td><${Highlighted} text=${v} values=${marks} /></td></tr>`)}</tbody></table>`;
}

function RuleBox({ rule, id }) {
  if (!id) return html`<div class="panel"><h3>Rule</h3><p class="muted">No rule matched this exchange.</p></div>`;
  if (!rule) return html`<div class="panel"><h3>Rule <code>${id}</code></h3><p class="muted">Not in the loaded packs.</p></div>`;
  return html`<div class="panel rule">
    <h3>Rule <code>${rule.id}</code> ${chip(rule.action, 'action')} ${chip(rule.severity, `sev sev-${rule.severity}`)}</h3>
    <p><b>Why it matters: </b><${Md} text=${rule.why} /></p>
    <p><b>Source: </b>${safeLink(rule.cite)}</p>
    <p><b>What to do: </b><${Md} text=${rule.remediation} /></p>
    <p class="muted">Pack ${rule.pack} · party ${rule.party}</p>
  </div>`;
}

function WsMessages({ ws, current }) {
  if (!ws) return null;
  return html`<div class="panel"><h3>WebSocket connection ${ws.connectionId}</h3>
    <p class="muted">The upgrade request is its own exchange: its findings are listed there, not repeated on each message.</p>
    <table class="flows ws-messages"><thead><tr><th>Time</th><th>Message</th><th>Size</th><th>Kinds</th><th>Data</th></tr></thead>
    <tbody>${ws.messages.map((m) => html`<tr class=${m.id === current ? 'current' : ''} onClick=${() => (location.hash = `#/flow/${m.id}`)}>
      <td>${fmtTime(m.time)}</td><td class="nowrap">${wsText(m.direction, m.binary)}</td><td>${m.size}</td>
      <td>${kindChips(m.kinds)}</td><td class="path">${m.binary ? '(binary)' : (m.text ?? '')}</td></tr>`)}</tbody></table></div>`;
}

function BlockHost({ host, mode }) {
  const [state, setState] = useState(null);
  if (!host) return null;
  const observe = mode === 'observe';
  const block = () => {
    setState('…');
    sendJSON('POST', '/api/overrides', { kind: 'block', host }).then(
      () => setState(observe
        ? `Saved. leakwatch runs in observe mode, so traffic to ${host} still flows and is marked would-block; the block applies in enforce mode (leakwatch start --mode enforce). Undo under Overrides.`
        : `Blocked: new requests to ${host} are answered by leakwatch. Undo under Overrides.`),
      (e) => setState(`Could not block: ${e.message}`),
    );
  };
  return html`<span class="block-host"><button class="block-host-btn" onClick=${block} disabled=${state !== null && !state.startsWith('Could not')}>
      ${observe ? 'Block this host (applies in enforce mode)' : 'Block this host'}</button>
    ${state ? html` <span class="muted" role="status">${state}</span>` : null}</span>`;
}

/** A POSIX-shell single-quoted word. */
const sq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** The request as a curl command (through nothing: it goes straight to the party). */
export function curlOf(f, request) {
  const skip = new Set(['host', 'content-length', 'connection', 'proxy-connection', 'accept-encoding']);
  const parts = ['curl', '-X', sq(f.method), sq(f.url)];
  for (const [k, v] of request?.headers || []) if (!skip.has(k.toLowerCase())) parts.push('-H', sq(`${k}: ${v}`));
  const body = request?.body;
  if (body?.text) parts.push('--data-raw', sq(body.text));
  return parts.join(' ');
}

function CopyCurl({ f, request }) {
  const [msg, setMsg] = useState(null);
  const text = curlOf(f, request);
  const copy = () => navigator.clipboard?.writeText(text).then(() => setMsg('Copied.'), () => setMsg(text)) ?? setMsg(text);
  return html`<span class="copy-curl"><button type="button" onClick=${copy}>Copy as curl</button>
    ${msg ? (msg === 'Copied.' ? html` <span class="muted" role="status">${msg}</span>` : html`<pre class="body">${msg}</pre>`) : null}</span>`;
}

/** Why a TLS failure happened, in words. */
function TlsFailure({ f }) {
  if (f.type !== 'tls-failure') return null;
  return html`<div class="panel tls-explain" role="note"><h3>TLS failure: the client refused leakwatch's certificate</h3>
    <p>This app does not trust leakwatch's CA, or it pins its certificates, so it closed the connection to <b>${f.host}</b>
      before sending a request. Nothing it would have sent is visible here, and the app may be failing right now.</p>
    <p>To see its traffic, install and trust the CA on this device (see <a href="#/setup">Setup</a>). If the app pins certificates,
      start leakwatch with <code>--passthrough ${f.host}</code> so the connection is tunnelled untouched (it works again, but is not inspected).</p>
  </div>`;
}

/** Esc goes back to where the user came from (Live by default). */
function useEscBack() {
  useEffect(() => {
    const on = (e) => {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      if (/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName ?? '')) return;
      history.length > 1 ? history.back() : location.replace('#/live');
    };
    addEventListener('keydown', on);
    return () => removeEventListener('keydown', on);
  }, []);
}

const prevented = (f, notes) => f.verdict === 'block' || f.verdict === 'neutralize' || (f.verdict === 'hold' && (notes || []).some((n) => /denied/.test(n)));

export function DetailView({ id }) {
  const [d, setD] = useState(null);
  const [error, setError] = useState(null);
  useEscBack();
  useEffect(() => {
    setD(null);
    setError(null);
    getJSON(`/api/flows/${encodeURIComponent(id)}`).then(setD, (e) => setError(e.message));
  }, [id]);
  // Focus the heading so keyboard users start reading at the exchange.
  useEffect(() => {
    if (d) document.querySelector('.detail h2')?.focus();
  }, [d]);
  if (error) return html`<p class="error">Exchange ${id}: ${error}</p>`;
  if (!d) return html`<p class="muted">Loading…</p>`;
  const f = d.flow;
  const marks = needles((f.leaks || []).map((l) => l.value));
  const stopped = prevented(f, d.notes);
  const would = String(f.verdict).startsWith('would-');
  return html`<section class="detail">
    <p><a href="#/live" onClick=${(e) => history.length > 1 && (e.preventDefault(), history.back())}>← Back</a> <span class="muted">(Esc)</span></p>
    <h2 class="url" tabindex="-1"><span class="method">${f.method}</span> <${Highlighted} text=${f.url} values=${marks} /></h2>
    <ul class="facts">
      ${f.type === 'websocket' ? html`<li>${wsChip(f)}</li>` : null}
      <li>${fmtDateTime(f.time)}</li><li>host ${fmtHost(f.host)}</li><li>client ${f.client}</li><li>status ${f.status ?? f.error ?? '—'}</li>
      ${f.durationMs !== null && f.durationMs !== undefined ? html`<li>${f.durationMs} ms</li>` : null}
      <li>${verdictChip(f.verdict)}${would ? html` <span class="muted">(observe mode: it was not done; ${f.verdict.slice(6)} applies in enforce mode)</span>` : null}</li>
      <li><${BlockHost} host=${f.host} mode=${d.mode} /></li>
      ${f.type !== 'tls-failure' ? html`<li><${CopyCurl} f=${f} request=${d.request} /></li>` : null}
    </ul>
    <${TlsFailure} f=${f} />
    <p class="facts">${f.party ?? 'no rule matched'} ${categoryChip(f.category, f.firstParty)} ${kindChips(f.kinds)}</p>
    <${RuleBox} rule=${d.ruleInfo} id=${f.rule} />
    <div class=${`panel ${stopped ? 'prevented' : ''}`}><h3>Findings${stopped ? ' — prevented: leakwatch stopped this request, the party did not receive them' : ''}</h3>
      ${f.leaks?.length ? html`<table class="findings"><thead><tr><th>Kind</th><th>Value</th><th>Where</th><th>How found</th></tr></thead>
        <tbody>${f.leaks.map((l) => html`<tr><td>${chip(l.kind, 'kind')}</td><td><mark class="leak">${l.value}</mark></td>
          <td><code>${l.where}</code></td><td>${l.method}</td></tr>`)}</tbody></table>` : html`<p class="muted">No personal data found.</p>`}
    </div>
    ${d.notes?.length ? html`<div class="panel"><h3>Notes</h3><ul>${d.notes.map((n) => html`<li>${n}</li>`)}</ul></div>` : null}
    <div class="split">
      <div class="panel"><h3>Request</h3><${Headers} headers=${d.request?.headers} marks=${marks} />
        <${Body} body=${d.request?.body} marks=${marks} leaks=${f.leaks} where="request.body" /></div>
      <div class="panel"><h3>Response</h3>${d.response
        ? html`<${Headers} headers=${d.response.headers} marks=${marks} /><${Body} body=${d.response.body} marks=${marks} leaks=${f.leaks} where="response.body" />`
        : html`<p class="muted">No response.</p>`}</div>
    </div>
    <${WsMessages} ws=${d.websocket} current=${f.id} />
  </section>`;
}
