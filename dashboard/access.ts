/**
 * Who may talk to the dashboard: which Host headers (DNS-rebinding defence), which Origins
 * (cross-site WebSocket hijacking and CSRF defence) and which token. Pure functions over a policy
 * built once the port is known, so they are unit-testable without a server.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import type { IncomingMessage } from 'node:http';

export interface AccessPolicy {
  readonly token: string;
  readonly port: number;
  /** Lower-case `host:port` values accepted in the Host header. */
  readonly hosts: ReadonlySet<string>;
  /** `http(s)://host:port` values accepted in the Origin header. */
  readonly origins: ReadonlySet<string>;
  /** Served over TLS (beyond loopback): the cookie is then `Secure`. */
  readonly secure: boolean;
  /** Cookies are shared by every port of a host name; the port in the name keeps instances apart. */
  readonly cookieName: string;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

function bracket(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

/** Names a browser may legitimately use to reach a server bound to `bindHost`. */
export function reachableNames(bindHost: string): string[] {
  const h = bindHost.toLowerCase();
  if (h === '0.0.0.0' || h === '::' || h === '[::]' || h === '') {
    const names = new Set(LOOPBACK_NAMES);
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) names.add(bracket(a.address.toLowerCase().replace(/%.*$/, '')));
    }
    return [...names];
  }
  return isLoopback(h) ? [...new Set([bracket(h), ...LOOPBACK_NAMES])] : [bracket(h)];
}

export function buildAccessPolicy(bindHost: string, port: number, token: string, secure = false): AccessPolicy {
  const names = reachableNames(bindHost);
  const hosts = new Set<string>();
  const origins = new Set<string>();
  const scheme = secure ? 'https' : 'http';
  const defaultPort = secure ? 443 : 80;
  for (const n of names) {
    hosts.add(`${n}:${port}`);
    origins.add(`${scheme}://${n}:${port}`);
    if (port === defaultPort) {
      hosts.add(n);
      origins.add(`${scheme}://${n}`);
    }
  }
  return { token, port, hosts, origins, secure, cookieName: `leakwatch_token_${port}` };
}

export function hostAllowed(policy: AccessPolicy, host: string | undefined): boolean {
  return host !== undefined && policy.hosts.has(host.toLowerCase());
}

export function originAllowed(policy: AccessPolicy, origin: string | undefined): boolean {
  return origin !== undefined && policy.origins.has(origin.toLowerCase());
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time comparison (hashing first makes the lengths equal). */
export function tokenMatches(policy: AccessPolicy, candidate: string | undefined): boolean {
  if (!candidate) return false;
  return timingSafeEqual(digest(candidate), digest(policy.token));
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  const m = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
  return m?.[1];
}

export function cookieToken(policy: AccessPolicy, req: IncomingMessage): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === policy.cookieName) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export type AuthResult = 'bearer' | 'cookie' | null;

export function authenticate(policy: AccessPolicy, req: IncomingMessage): AuthResult {
  if (tokenMatches(policy, bearerToken(req))) return 'bearer';
  if (tokenMatches(policy, cookieToken(policy, req))) return 'cookie';
  return null;
}

/**
 * Fetch-metadata check for reads: a page on another origin (even another port on 127.0.0.1, which
 * counts as the same *site* and so receives SameSite=Strict cookies) must not get an answer.
 * Requests without the header (curl, Prometheus, old browsers) fall through to the Origin check.
 */
export function crossOriginRead(policy: AccessPolicy, req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = req.headers.origin;
  return origin !== undefined && !originAllowed(policy, origin);
}

export function setCookieHeader(policy: AccessPolicy): string {
  // HttpOnly: page scripts never see it; SameSite=Strict: not sent on cross-site requests.
  return `${policy.cookieName}=${policy.token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000${policy.secure ? '; Secure' : ''}`;
}
