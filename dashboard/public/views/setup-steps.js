// Per-platform instructions for the Setup view. PROXY and PAC are replaced with real values;
// `backticks` mark a command, shown as a code block with a copy button.
export const STEPS = [
  {
    title: 'Firefox',
    steps: [
      'Settings → General → Network Settings → Manual proxy configuration: HTTP proxy PROXY, tick "Also use this proxy for HTTPS" (or use "Automatic proxy configuration URL": PAC).',
      'Settings → Privacy & Security → Certificates → View Certificates → Authorities → Import leakwatch-ca.pem, tick "Trust this CA to identify websites".',
    ],
    note: 'Firefox keeps its own trust store; a CA installed in the operating system is not used unless security.enterprise_roots.enabled is on.',
  },
  {
    title: 'Chrome / Chromium',
    steps: [
      'Start a separate profile through the proxy (or set the system proxy / PAC): `chromium --proxy-server=PROXY --user-data-dir=/tmp/lw-profile`',
      'Settings → Privacy and security → Security → Manage certificates → Authorities → Import leakwatch-ca.pem and trust it for websites (on Windows and macOS Chrome uses the system store).',
    ],
  },
  {
    title: 'Android',
    steps: [
      'Wi-Fi → your network → Proxy → Manual: host and port from PROXY (or "Proxy Auto-Config" with PAC).',
      'Download leakwatch-ca.crt from this page, then Settings → Security → Encryption & credentials → Install a certificate → CA certificate, and check the fingerprint.',
      'Open a browser on the phone and visit any https site: it should load without a warning, and appear in Live.',
    ],
    note: 'Android 7 and later: apps ignore user-installed CAs unless they opt in (network_security_config). Chrome accepts it; Element Android and most apps do not, so their HTTPS fails (shown as TLS failures). Use a debug build that trusts user CAs, an emulator or rooted device with the CA in the system store (Android 14: the APEX store), or audit the same account from Element Web/Desktop.',
  },
  {
    title: 'iOS / iPadOS',
    steps: [
      'Settings → Wi-Fi → (i) → Configure Proxy → Manual: server and port from PROXY (or Automatic with PAC).',
      'Open this page in Safari and tap leakwatch-ca.pem; allow the profile download, then Settings → General → VPN & Device Management → install the profile.',
      'Settings → General → About → Certificate Trust Settings → enable full trust for the leakwatch CA.',
    ],
    note: 'Without the last step the profile is installed but TLS to intercepted hosts still fails.',
  },
  {
    title: 'Element Desktop',
    steps: [
      'Start it through the proxy (Electron takes Chromium flags), or set the system proxy: `element-desktop --proxy-server=PROXY`',
      'Trust the CA in the operating system store (macOS: Keychain Access, "Always Trust"; Windows: certmgr → Trusted Root Certification Authorities). Linux: `sudo cp leakwatch-ca.pem /usr/local/share/ca-certificates/leakwatch-ca.crt && sudo update-ca-certificates` and, for Chromium-based apps (NSS store): `certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n leakwatch -i leakwatch-ca.pem`',
    ],
  },
  {
    title: 'Synapse (homeserver)',
    steps: [
      'Set http_proxy / https_proxy (and no_proxy for localhost and your database) in the Synapse environment to http://PROXY, e.g. in the systemd unit or docker-compose file.',
      'Make Synapse trust the CA: add leakwatch-ca.pem to the system store of the host or container, or point REQUESTS_CA_BUNDLE / SSL_CERT_FILE at a bundle that contains it.',
      'Synapse sends push, URL previews, phone-home stats, reCAPTCHA and OpenID Connect requests through the proxy (see Synapse\'s "Using a forward proxy" docs).',
    ],
    note: 'Identity-server calls (3PID lookups, email invites), outbound federation and application services ignore http_proxy: intercept them with DNS routing instead (leakwatch --dns-port with --transparent-https-port, and point Synapse\'s resolver at it).',
  },
];
