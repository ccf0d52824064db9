/**
 * GET /proxy.pac: a proxy auto-config file. It sends everything through leakwatch except plain
 * local names and the machine running leakwatch, so devices keep reaching it and their LAN.
 */

/** JS string literal for the PAC body; the values come from our own config, JSON escaping is enough. */
const lit = (s: string): string => JSON.stringify(s);

export function renderPac(proxyHost: string, proxyPort: number, directHosts: readonly string[]): string {
  const host = proxyHost.includes(':') && !proxyHost.startsWith('[') ? `[${proxyHost}]` : proxyHost;
  const direct = [...new Set(['localhost', '127.0.0.1', '::1', ...directHosts])].map(lit).join(', ');
  return [
    '// leakwatch proxy auto-config',
    'function FindProxyForURL(url, host) {',
    `  var direct = [${direct}];`,
    '  for (var i = 0; i < direct.length; i++) if (host === direct[i]) return "DIRECT";',
    '  if (isPlainHostName(host)) return "DIRECT";',
    `  return ${lit(`PROXY ${host}:${proxyPort}`)};`,
    '}',
    '',
  ].join('\n');
}
