// Setup: everything needed to point a device at leakwatch. Uses only the public /setup routes,
// so it also works on a phone that scanned the QR code and has no token.
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { STEPS } from './setup-steps.js';

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
          Start with <code>--host 0.0.0.0</code> (and <code>--dashboard-host 0.0.0.0</code> for this page) to onboard a phone.</p>`}
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
        <img src="/setup/qr.svg" alt="QR code of the setup page" width="200" height="200" />
        <p><code>${info.setupUrl}</code></p>
        ${info.dashboardReachableFromLan ? null : html`<p class="warn">This address is loopback: a phone cannot open it.</p>`}
      </div>
    </div>
    ${STEPS.map((s) => html`<div class="panel steps"><h3>${s.title}</h3>
      <ol>${s.steps.map((t) => html`<li>${t.replaceAll('PROXY', addr).replaceAll('PAC', info.pacUrl)}</li>`)}</ol>
      ${s.note ? html`<p class="note">${s.note}</p>` : null}</div>`)}
  </section>`;
}
