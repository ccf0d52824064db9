/**
 * The public setup routes: /proxy.pac, the CA certificate downloads, the QR code and the facts
 * the Setup view shows. They carry no captured data, and they are reachable without the token on
 * purpose: an OS fetching a PAC file and a phone's certificate installer (Android's download
 * manager, iOS's profile installer) cannot send a bearer header or the browser's cookie.
 * The Host check still applies. Only the public certificate is here; the key never is.
 */
import { networkInterfaces } from 'node:os';
import { Router, type Request } from 'express';
import QRCode from 'qrcode';
import { renderPac } from './pac.js';
import type { CaView } from './types.js';

export interface SetupDeps {
  ca: CaView;
  proxy: { host: string; port: number };
  dashboard: () => { host: string; port: number; secure?: boolean };
}

const isWildcard = (h: string): boolean => h === '0.0.0.0' || h === '::' || h === '[::]' || h === '';
const isLoopback = (h: string): boolean => h === 'localhost' || h === '::1' || /^127\./.test(h);

/** The first external IPv4 address: what a phone on the LAN can reach when we listen everywhere. */
export function lanAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/** The Host header's name part (already validated by the host guard). */
function requestHostName(req: Request): string {
  const host = req.headers.host ?? 'localhost';
  return host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
}

function reachable(bound: string, req: Request): string {
  if (isWildcard(bound)) return isLoopback(requestHostName(req)) ? (lanAddress() ?? requestHostName(req)) : requestHostName(req);
  return bound;
}

const urlHost = (h: string): string => (h.includes(':') ? `[${h}]` : h);

export function setupInfo(deps: SetupDeps, req: Request) {
  const dash = deps.dashboard();
  const dashHost = reachable(dash.host, req);
  const proxyHost = reachable(deps.proxy.host, req);
  const base = `${dash.secure ? 'https' : 'http'}://${urlHost(dashHost)}:${dash.port}`;
  return {
    proxy: { host: proxyHost, port: deps.proxy.port },
    /** false when the proxy listens on loopback only: phones cannot use it. */
    proxyReachableFromLan: !isLoopback(proxyHost),
    dashboardReachableFromLan: !isLoopback(dashHost),
    setupUrl: `${base}/#/setup`,
    pacUrl: `${base}/proxy.pac`,
    downloads: { pem: '/setup/leakwatch-ca.pem', der: '/setup/leakwatch-ca.der', crt: '/setup/leakwatch-ca.crt' },
    fingerprintSha256: deps.ca.fingerprintSha256,
  };
}

export function setupRouter(deps: SetupDeps): Router {
  const r = Router();
  const download = (name: string, type: string, body: string | Buffer) => (_req: Request, res: import('express').Response) => {
    res.setHeader('Content-Type', type);
    res.setHeader('Content-Disposition', `attachment; filename="${name}"`);
    res.setHeader('Cache-Control', 'no-cache');
    res.send(body);
  };
  r.get('/setup/leakwatch-ca.pem', download('leakwatch-ca.pem', 'application/x-pem-file', deps.ca.certPem));
  r.get('/setup/leakwatch-ca.der', download('leakwatch-ca.der', 'application/x-x509-ca-cert', deps.ca.certDer));
  // Android's installer wants DER with a .crt name (same as `leakwatch ca --export`).
  r.get('/setup/leakwatch-ca.crt', download('leakwatch-ca.crt', 'application/x-x509-ca-cert', deps.ca.certDer));

  r.get('/setup/info.json', (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(setupInfo(deps, req));
  });

  r.get('/setup/qr.svg', async (req, res) => {
    const svg = await QRCode.toString(setupInfo(deps, req).setupUrl, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
    res.setHeader('Cache-Control', 'no-store');
    res.type('image/svg+xml').send(svg);
  });

  r.get('/proxy.pac', (req, res) => {
    const info = setupInfo(deps, req);
    res.setHeader('Cache-Control', 'no-cache');
    res.type('application/x-ns-proxy-autoconfig').send(renderPac(info.proxy.host, info.proxy.port, [requestHostName(req)]));
  });
  return r;
}
