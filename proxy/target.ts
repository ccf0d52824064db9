/**
 * Where a request really goes. For requests inside a CONNECT tunnel the upstream is the CONNECT
 * target, never the inner Host header (the library forwarded `CONNECT a.test` + `Host: b.test`
 * to b.test): a differing Host gets 421. Outside tunnels only absolute-form http:// is accepted.
 */
import { ERR, type ErrorCode } from '../core/errors.js';
import { formatAuthority, parseHost, parsePort } from './connect-target.js';
import type { TunnelInfo } from './engine-context.js';

export interface RequestTarget {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  /** Path and query as sent on the wire. */
  readonly path: string;
  readonly url: string;
}

export type TargetResult =
  | { readonly ok: true; readonly target: RequestTarget }
  | { readonly ok: false; readonly status: number; readonly code: ErrorCode; readonly message: string };

function splitAuthority(authority: string): { host: string; port?: number } | undefined {
  const m = /^(\[[^\]]+\]|[^:[\]@]+)(?::([0-9]*))?$/.exec(authority);
  if (!m) return undefined;
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  if (m[2] === undefined || m[2] === '') return { host };
  const port = parsePort(m[2]);
  return port === undefined ? undefined : { host, port };
}

const SLASH = 0x2f;

/** `scheme://authority`, the default port left out. */
function originOf(scheme: 'http' | 'https', host: string, port: number): string {
  return `${scheme}://${formatAuthority(host, port, scheme === 'https' ? 443 : 80)}`;
}

function build(scheme: 'http' | 'https', host: string, port: number, path: string): RequestTarget {
  return { scheme, host, port, path, url: originOf(scheme, host, port) + path };
}

export function targetOf(rawUrl: string, hostHeader: string | undefined, tunnel: TunnelInfo | undefined, isSSL: boolean): TargetResult {
  const bad = (status: number, code: ErrorCode, message: string): TargetResult => ({ ok: false, status, code, message });
  if (tunnel) {
    const scheme = isSSL ? 'https' : 'http';
    let path = rawUrl;
    // Origin-form ("/...") is what clients send inside a tunnel: no regex for it.
    if (rawUrl.charCodeAt(0) !== SLASH) {
      const abs = /^https?:\/\/[^/?#]*/i.exec(rawUrl);
      if (abs) path = rawUrl.slice(abs[0].length) || '/';
      if (!path.startsWith('/') && path !== '*') return bad(400, ERR.BAD_TARGET, 'bad request target');
    }
    if (tunnel.routeByHost) {
      // Transparent plain HTTP (sent here by DNS): the Host header is the only name there is.
      const h = hostHeader === undefined ? undefined : splitAuthority(hostHeader.trim());
      const name = h && parseHost(h.host);
      if (!h || !name) return bad(400, ERR.BAD_TARGET, 'no usable Host header to route by');
      return { ok: true, target: build(scheme, name.host, h.port ?? tunnel.port, path) };
    }
    // A keep-alive tunnel repeats the same Host header on every request: parsed once per tunnel.
    if (hostHeader !== undefined && hostHeader !== tunnel.matchedHost) {
      const h = splitAuthority(hostHeader.trim());
      const name = h && parseHost(h.host);
      if (!name || name.host !== tunnel.host) return bad(421, ERR.BAD_TARGET, 'Host header does not match the CONNECT target');
      tunnel.matchedHost = hostHeader;
    }
    // The tunnel's scheme, host and port never change, and neither does the URL's start.
    const origin = (tunnel.origin ??= originOf(scheme, tunnel.host, tunnel.port));
    return { ok: true, target: { scheme, host: tunnel.host, port: tunnel.port, path, url: origin + path } };
  }
  const m = /^http:\/\/([^/?#]*)(.*)$/i.exec(rawUrl);
  if (!m) return bad(400, ERR.BAD_TARGET, 'not an absolute http:// URL (use CONNECT for https)');
  const authority = splitAuthority(m[1]!);
  const host = authority && parseHost(authority.host);
  if (!authority || !host) return bad(400, ERR.BAD_TARGET, 'bad host in request URL');
  let path = m[2] || '/';
  if (path.startsWith('?')) path = `/${path}`;
  return { ok: true, target: build('http', host.host, authority.port ?? 80, path) };
}
