// The shell: top navigation, hash routing and the sign-in gate. Views live in ./views/.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { getJSON, Unauthorized } from './api.js';
import { liveState, startLive, subscribe } from './live-state.js';
import { LiveView } from './views/live.js';
import { WhoView } from './views/who.js';
import { DetailView } from './views/detail.js';
import { TimelineView } from './views/timeline.js';
import { RulesView } from './views/rules.js';
import { SetupView } from './views/setup.js';
import { HealthView } from './views/health.js';
import { HoldPanel } from './views/holds.js';
import { OverridesView } from './views/overrides.js';
import { ReportView } from './views/report.js';

const NAV = [
  ['who', 'Who knows what'],
  ['live', 'Live'],
  ['timeline', 'Timeline'],
  ['rules', 'Rules'],
  ['overrides', 'Overrides'],
  ['report', 'Report'],
  ['setup', 'Setup'],
  ['health', 'Health'],
];

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query] = raw.split('?');
  const parts = (path || '').split('/').filter(Boolean);
  return { name: parts[0] || '', arg: parts[1], params: Object.fromEntries(new URLSearchParams(query || '')) };
}

function useRoute() {
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const on = () => setRoute(parseHash());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function useLiveStatus() {
  const [s, setS] = useState({ status: liveState().status, n: liveState().flows.length });
  useEffect(() => subscribe((st) => setS({ status: st.status, n: st.flows.length })), []);
  return s;
}

function SignIn() {
  return html`<section class="panel signin">
    <h2>Sign in</h2>
    <p>This dashboard shows personal data, so it needs the token that <code>leakwatch start</code> printed as a link
      (<code>http://127.0.0.1:8081/?token=…</code>). Open that link in this browser; it sets a cookie and brings you back here.</p>
    <p>The token is also in <code>&lt;data-dir&gt;/dashboard-token</code>. The <a href="#/setup">Setup</a> page works without it.</p>
  </section>`;
}

function App() {
  const route = useRoute();
  const live = useLiveStatus();
  const [auth, setAuth] = useState('checking');

  useEffect(() => {
    startLive()
      .then(() => setAuth('ok'))
      .catch((err) => setAuth(err instanceof Unauthorized ? 'needed' : 'ok'));
  }, []);

  // Landing: "Who knows what" once there is data, Setup before that.
  useEffect(() => {
    if (auth !== 'ok' || route.name) return;
    getJSON('/api/summary')
      .then(({ cells }) => location.replace(cells.length ? '#/who' : '#/setup'))
      .catch(() => location.replace('#/setup'));
  }, [auth, route.name]);

  let view;
  if (route.name === 'setup') view = html`<${SetupView} />`;
  else if (auth === 'needed') view = html`<${SignIn} />`;
  else if (auth === 'checking') view = html`<p class="muted">Connecting…</p>`;
  else if (route.name === 'live') view = html`<${LiveView} params=${route.params} />`;
  else if (route.name === 'flow') view = html`<${DetailView} id=${route.arg} />`;
  else if (route.name === 'timeline') view = html`<${TimelineView} />`;
  else if (route.name === 'rules') view = html`<${RulesView} />`;
  else if (route.name === 'overrides') view = html`<${OverridesView} />`;
  else if (route.name === 'health') view = html`<${HealthView} />`;
  else if (route.name === 'report') view = html`<${ReportView} />`;
  else view = html`<${WhoView} />`;

  const current = route.name === 'flow' ? 'live' : route.name || 'who';
  return html`<header class="top">
      <a class="brand" href="#/who">leakwatch</a>
      <nav>${NAV.map(([id, label]) => html`<a href=${`#/${id}`} class=${current === id ? 'on' : ''}>${label}</a>`)}</nav>
      <span class=${`status s-${auth === 'ok' ? live.status : 'off'}`} title="live stream">
        ${auth === 'ok' ? `${live.status} · ${live.n} flows` : 'not signed in'}
      </span>
    </header>
    <main>${auth === 'ok' ? html`<${HoldPanel} />` : null}${view}</main>`;
}

const root = document.getElementById('app');
root.textContent = ''; // drop the "Loading…" placeholder: render() keeps foreign children
render(html`<${App} />`, root);
