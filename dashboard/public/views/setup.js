// Setup: everything needed to point a device at leakwatch. Uses only the public /setup routes,
// so it also works on a phone that scanned the QR code and has no token.
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { STEPS } from './setup-steps.js';

/** A command to copy: a code block with a copy button. */
export function Cmd({ text }) {
  const [done, setDone] = useState(false);
  const copy = () => navigator.clipboard?.writeText(text).then(() => setDone(true), () => undefined);
  return html`<div class="cmd"><pre><code>${text}</code></pre>
    <button type="button" onClick=${copy} aria-label=${`Copy: ${text}`}>${done ? 'Copied' : 'Copy'}</button></div>`;
}

/** Step text with `command` spans (backticks in setup-steps.js) shown as copyable code. */
function Step({ text }) {
  const parts = text.split('`');
  return html`${parts.map((p, i) => (i % 2 ? html`<${Cmd} text=${p} />` : p))}`;
}

export function SetupView() {
  const [info, setInfo] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    fetch('/setup/info.json', { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then(setInfo, (e) => setError(e.message));
  }, []);
  if (error) return html`<p class="error">${error}</p>`;
  if (!info) return html`<p class="muted">Loading…</p>`;
  const addr = `${info.proxy.host}:${info.proxy.port}`;
  return html`<section class="setup">
    <h2>Setup</h2>
    <div class="setup-top">
      <div class="panel facts">
        <h3>Proxy</h3>
        <p>HTTP/HTTPS proxy: <code class="big">${addr}</code></p>
        <p>Auto-config (PAC) URL: <code>${info.pacUrl}</code></p>
        ${info.proxyReachableFromLan ? null : html`<p class="warn">The proxy listens on loopback only: other devices cannot use it.
          To onboard a phone on your network, restart with the proxy and this page on the LAN, allowing only your network:</p>
          <${Cmd} text="leakwatch start --host 0.0.0.0 --dashboard-host 0.0.0.0 --allow-client 192.168.1.0/24" />
          <p class="muted">Replace 192.168.1.0/24 with your network. Beyond loopback, every listener refuses clients outside --allow-client.</p>`}
        <h3>CA certificate</h3>
        <ul class="downloads">
          <li><a href=${info.downloads.pem} download>leakwatch-ca.pem</a> PEM: browsers, desktops, iOS, Synapse</li>
          <li><a href=${info.downloads.der} download>leakwatch-ca.der</a> DER: Windows and other installers</li>
          <li><a href=${info.downloads.crt} download>leakwatch-ca.crt</a> DER named .crt: Android</li>
        </ul>
        <p>SHA-256 fingerprint — compare it with what the device shows before trusting it:</p>
        <p><code class="fp">${info.fingerprintSha256}</code></p>
        <p class="muted">Trust this CA only on devices you are auditing, and remove it when you are done: anyone with the
          key in your data dir could intercept those devices' TLS.</p>
      </div>
      <div class="panel qr">
        <h3>On a phone</h3>
        ${info.dashboardReachableFromLan
          ? html`<img src="/setup/qr.svg" alt="QR code of the setup page" width="200" height="200" />
            <p><code>${info.setupUrl}</code></p>`
          : html`<p class="warn">No QR code: this page is on loopback (${info.setupUrl}), which a phone cannot open.
            Restart with <code>--dashboard-host 0.0.0.0 --allow-client</code> your network (the command is on the left), then scan the code shown here.</p>`}
      </div>
    </div>
    ${STEPS.map((s) => html`<div class="panel steps"><h3>${s.title}</h3>
      <ol>${s.steps.map((t) => html`<li><${Step} text=${t.replaceAll('PROXY', addr).replaceAll('PAC', info.pacUrl)} /></li>`)}</ol>
      ${s.note ? html`<p class="note">${s.note}</p>` : null}</div>`)}
  </section>`;
}
