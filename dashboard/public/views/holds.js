// The held-requests panel, shown above every view while something waits for a decision: who asks
// (client), what (method, URL, rule, party), why (the rule's reason and the data in the request),
// a countdown to the automatic deny, and allow / deny for once, for an hour or always.
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { chip } from '../format.js';
import { decide, holdsState, startHolds, subscribeHolds } from '../holds-state.js';

function useHolds() {
  const [s, setS] = useState({ holds: holdsState().holds, error: holdsState().error });
  useEffect(() => {
    startHolds();
    return subscribeHolds((st) => setS({ holds: st.holds, error: st.error }));
  }, []);
  return s;
}

function useNow(active) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return undefined;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

const SCOPES = [
  ['once', 'once'],
  ['hour', 'for 1 hour'],
  ['always', 'always'],
];

function Held({ h, now }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  // Clamped to the timeout: the browser's clock may run a little behind the server's.
  const left = Math.min(Math.round((h.deadline - h.since) / 1000), Math.max(0, Math.ceil((h.deadline - now) / 1000)));
  const act = (decision, scope) => {
    setBusy(true);
    setError(null);
    decide(h.id, decision, scope).catch((e) => {
      setError(e.message);
      setBusy(false);
    });
  };
  return html`<li class="held" data-hold=${h.id}>
    <div class="held-what">
      <b>${h.method}</b> <code class="held-url">${h.url}</code>
      <div class="muted">from <b>${h.client}</b> · rule <code>${h.ruleId}</code>${h.party ? ` · ${h.party} ` : ' '}
        ${h.category ? chip(h.category, `cat cat-${h.category}`) : null}${h.severity ? chip(h.severity, `sev sev-${h.severity}`) : null}</div>
      ${h.why ? html`<p class="held-why">${h.why}</p>` : null}
      ${h.findings?.length ? html`<p class="held-findings">Carries: ${h.findings.map((f) => html`${chip(f.kind, 'kind')}<mark class="leak">${f.value}</mark> `)}</p>` : null}
      ${error ? html`<p class="error">${error}</p>` : null}
    </div>
    <div class="held-actions">
      <span class="countdown" title="denied automatically when this reaches 0">${left} s</span>
      <div class="btns allow">${SCOPES.map(([scope, label]) => html`<button disabled=${busy} data-decision="allow" data-scope=${scope} onClick=${() => act('allow', scope)}>Allow ${label}</button>`)}</div>
      <div class="btns deny">${SCOPES.map(([scope, label]) => html`<button disabled=${busy} data-decision="deny" data-scope=${scope} onClick=${() => act('deny', scope)}>Deny ${label}</button>`)}</div>
    </div>
  </li>`;
}

export function HoldPanel() {
  const { holds, error } = useHolds();
  const now = useNow(holds.length > 0);
  if (!holds.length && !error) return null;
  return html`<section class="panel holds" aria-live="polite">
    <h3>Waiting for your decision (${holds.length})</h3>
    ${error ? html`<p class="error">${error}</p>` : null}
    <ul>${holds.map((h) => html`<${Held} key=${h.id} h=${h} now=${now} />`)}</ul>
  </section>`;
}
