/**
 * Targets are pluggable "start / stop / pid" specs: the runner only needs a proxy URL (or none),
 * the CA the client must trust, and a pid whose /proc entry tells CPU and RSS.
 *   direct    no proxy: the load generator dials the origin itself (the floor)
 *   mitmdump  mitmproxy 8 (Debian `mitmproxy`), the reference to beat
 *   hmp       bare http-mitm-proxy + keepAlive, an optional extra reference (--with-hmp)
 *   leakwatch see target-leakwatch.ts
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeOriginPki, type OriginPki } from './certs.js';
import { freePort, sleep, startChild } from './proc.js';

export interface TargetEnv {
  readonly tmp: string;
  readonly pki: OriginPki;
  readonly originPort: number;
  /** Every host name the run will use; proxies that need an explicit map get all of them. */
  readonly hosts: readonly string[];
}

export interface Running {
  readonly pid: number | null;
  readonly proxy: string | null;
  readonly ca: Buffer[];
  /** Called after the run; e.g. WebSocket messages drained. */
  extra?(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export interface TargetSpec {
  readonly name: string;
  /** How this target reaches the *.bench.test origin, printed with the results. */
  readonly hostMapping: string;
  /** null when it can run, else why not and how to fix it. */
  unavailable(): string | null;
  start(env: TargetEnv): Promise<Running>;
}

export const benchDir = fileURLToPath(new URL('.', import.meta.url));

/** The bench's HTTPS origin (origin.ts, its own process) with a fresh CA and certificate in tmp. */
export async function startOrigin(tmp: string): Promise<{ pki: OriginPki; originPort: number }> {
  const pki = makeOriginPki(tmp);
  const origin = startChild(process.execPath, [join(benchDir, 'origin.js'), pki.certFile, pki.keyFile]);
  return { pki, originPort: Number((await origin.waitLine(/^\{"port":(\d+)/, 15_000))[1]) };
}

export function onPath(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return null;
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitPort(port: number, timeoutMs: number, also: () => boolean = () => true): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok && also()) return;
    await sleep(100);
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export const direct: TargetSpec = {
  name: 'direct',
  hostMapping: 'load generator dials 127.0.0.1 itself (lookup override), SNI/Host = hN.bench.test',
  unavailable: () => null,
  async start(env) {
    return { pid: null, proxy: null, ca: [readFileSync(env.pki.caCertFile)], stop: async () => {} };
  },
};

// mitmproxy resolves CONNECT targets with real DNS; rather than touching /etc/hosts we rewrite the
// server address in its `server_connect` hook. SNI and the Host header stay hN.bench.test, and
// upstream TLS is still verified against the origin CA for that name, so the work is the same as
// on the Internet minus DNS (which leakwatch's --resolve skips as well).
const MITM_ADDON = (port: number): string => `# written by leakwatch bench: map *.bench.test to the local origin
class MapBenchHosts:
    def server_connect(self, data):
        host, _ = data.server.address
        if host.endswith(".bench.test"):
            data.server.address = ("127.0.0.1", ${port})

addons = [MapBenchHosts()]
`;

export const mitmdump: TargetSpec = {
  name: 'mitmdump',
  hostMapping: 'addon rewrites server address to 127.0.0.1 in server_connect; SNI/Host kept, upstream verified',
  unavailable: () =>
    onPath('mitmdump') ? null : 'mitmdump not found: install it with `apt-get install mitmproxy` (Debian/Ubuntu)',
  async start(env) {
    const conf = join(env.tmp, 'mitm-conf');
    mkdirSync(conf, { recursive: true });
    const addon = join(env.tmp, 'map_bench_hosts.py');
    writeFileSync(addon, MITM_ADDON(env.originPort));
    const port = await freePort();
    const child = startChild('mitmdump', [
      '-q', '--listen-host', '127.0.0.1', '-p', String(port),
      '--set', `confdir=${conf}`,
      '--set', `ssl_verify_upstream_trusted_ca=${env.pki.caCertFile}`,
      '-s', addon,
    ]);
    const caFile = join(conf, 'mitmproxy-ca-cert.pem');
    try {
      await waitPort(port, 30_000, () => existsSync(caFile));
    } catch (err: unknown) {
      await child.stop();
      throw new Error(`mitmdump did not start: ${String(err)}\n${child.log().slice(-1500)}`);
    }
    return { pid: child.pid, proxy: `http://127.0.0.1:${port}`, ca: [readFileSync(caFile)], stop: child.stop };
  },
};

export const hmp: TargetSpec = {
  name: 'hmp',
  hostMapping: 'upstream https.Agent lookup override to 127.0.0.1; SNI/Host kept, upstream verified',
  unavailable: () => null,
  async start(env) {
    const port = await freePort();
    const caDir = join(env.tmp, 'hmp-ca');
    const child = startChild(process.execPath, [join(benchDir, 'hmp-proxy.js'), String(port), caDir, env.pki.caCertFile]);
    await child.waitLine(/^ready/, 30_000);
    const ca = [readFileSync(join(caDir, 'certs', 'ca.pem'))];
    return { pid: child.pid, proxy: `http://127.0.0.1:${port}`, ca, stop: child.stop };
  },
};
