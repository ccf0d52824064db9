// The shell: top navigation, hash routing and the sign-in gate. Views live in ./views/.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { DOWN, getJSON, Unauthorized } from './api.js';
import { currentSession, liveState, setSession, startLive, subscribe, subscribeSession } from './live-state.js';
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
  const pick = (st) => ({ status: st.status, stored: st.stored, sessions: st.sessions ?? [] });
  const [s, setS] = useState(pick(liveState()));
  useEffect(() => subscribe((st) => setS(pick(st))), []);
  return s;
}

function SignIn() {
  const [token, setToken] = useState('');
  const here = `${location.protocol}//${location.host}`;
  const submit = (e) => {
    e.preventDefault();
    const t = token.trim();
    // The server checks it, sets the HttpOnly cookie and redirects back without the token.
    if (t) location.href = `/?token=${encodeURIComponent(t)}`;
  };
  return html`<section class="panel signin">
    <h2>Sign in</h2>
    <p>This dashboard shows personal data, so it needs the token that <code>leakwatch start</code> printed as a link:
      <code>${here}/?token=…</code>. Open that link in this browser; it sets a cookie and brings you back here.</p>
    <form class="inline" onSubmit=${submit}>
      <label>Paste the token<input type="password" autocomplete="off" spellcheck="false" value=${token} onInput=${(e) => setToken(e.currentTarget.value)} /></label>
      <button type="submit">Sign in</button>
    </form>
    <p>The token is in the file <code>dashboard-token</code> in leakwatch's data dir: <code>~/.leakwatch/dashboard-token</code>
      unless you started it with <code>--data-dir DIR</code> or <code>LEAKWATCH_DATA_DIR</code>
      (<code>cat ~/.leakwatch/dashboard-token</code>). The <a href="#/setup">Setup</a> page works without it.</p>
  </section>`;
}

function SessionPicker({ sessions }) {
  const [value, setValue] = useState(currentSession());
  useEffect(() => subscribeSession(setValue), []);
  return html`<label class="session">Session
    <select value=${value} onChange=${(e) => setSession(e.currentTarget.value)}>
      <option value="">all sessions</option>
      ${sessions.map((x) => html`<option value=${String(x.id)}>${x.name} (${x.flows})</option>`)}
    </select></label>`;
}

const nf = new Intl.NumberFormat('en');

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
  const [menu, setMenu] = useState(false);
  useEffect(() => setMenu(false), [route.name, route.arg]);
  return html`<header class=${`top ${menu ? 'open' : ''}`}>
      <a class="brand" href="#/who">leakwatch</a>
      <button type="button" class="menu-btn" aria-expanded=${menu ? 'true' : 'false'} aria-controls="nav" onClick=${() => setMenu(!menu)}>
        <span aria-hidden="true">☰</span> Menu</button>
      <nav id="nav" aria-label="Views">${NAV.map(([id, label]) => html`<a href=${`#/${id}`} class=${current === id ? 'on' : ''} aria-current=${current === id ? 'page' : null}>${label}</a>`)}</nav>
      ${auth === 'ok' ? html`<${SessionPicker} sessions=${live.sessions} />` : null}
      <span role="status" class=${`status s-${auth === 'ok' ? live.status : 'off'}`} title="live stream · exchanges stored">
        ${auth === 'ok' ? `${live.status === 'down' || live.status === 'reconnecting' ? DOWN : live.status}${live.stored !== null && live.stored !== undefined ? ` · ${nf.format(live.stored)} stored` : ''}` : 'not signed in'}
      </span>
    </header>
    <main>${auth === 'ok' ? html`<${HoldPanel} />` : null}${view}</main>`;
}

const root = document.getElementById('app');
root.textContent = ''; // drop the "Loading…" placeholder: render() keeps foreign children
render(html`<${App} />`, root);
