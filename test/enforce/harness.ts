/**
 * Enforcement tests' harness: `startLeakwatch` (the real proxy, pipeline, store and dashboard) with
 * the test pack, plain-HTTP stand-ins that record every request and echo it back as JSON, and a
 * small client for the dashboard API (bearer token, no Origin: what a script sends).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { startLeakwatch, type Running } from '../../cli/start.js';
import { validateStartFlags, type RawStartFlags } from '../../cli/start-options.js';
import { silentLogger } from '../../core/log.js';
import { dashboardClient, type DashboardClient, type FlowItem } from '../helpers/matrix-e2e.js';
import { readAll, startOrigin, type Origin } from '../helpers/origin.js';

export const PACK = fileURLToPath(new URL('./fixtures/enforce-pack.yaml', import.meta.url));

export interface Echo {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly rawHeaders: string[];
  /** The body as received (base64). */
  readonly body: string;
}

export interface Seen extends Echo {
  readonly bodyBytes: Buffer;
}

/** An HTTP origin answering every request with a JSON echo of it; `received` keeps them. */
export async function startEchoOrigin(): Promise<Origin & { received: Seen[] }> {
  const received: Seen[] = [];
  const origin = await startOrigin({
    routes: {
      '*': (req: http.IncomingMessage, res: http.ServerResponse) => {
        void readAll(req).then((b) => {
          const echo: Echo = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body: b.toString('base64') };
          received.push({ ...echo, bodyBytes: b });
          const out = Buffer.from(JSON.stringify(echo));
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': out.length });
          res.end(out);
        });
      },
    },
    ws: (socket) => socket.on('message', (data, isBinary) => socket.send(isBinary ? data : `echo:${data.toString()}`, { binary: isBinary })),
  });
  return Object.assign(origin, { received });
}

export const gunzipJson = (b: Buffer): unknown => JSON.parse(gunzipSync(b).toString('utf8'));

export interface Lw {
  readonly running: Running;
  readonly dash: DashboardClient;
  readonly dir: string;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  /** The flow for a request (matched by host and path prefix), waiting up to 3 s. */
  flow(host: string, pathPrefix: string, extra?: (f: FlowItem) => boolean): Promise<FlowItem>;
  close(): Promise<void>;
}

export async function startLw(flags: RawStartFlags, hosts: readonly string[], originPort: number): Promise<Lw> {
  const dir = mkdtempSync(join(tmpdir(), 'lw-enforce-'));
  const running = await startLeakwatch(
    validateStartFlags({
      port: '0',
      dashboardPort: '0',
      dataDir: join(dir, 'leakwatch'),
      rules: [PACK],
      resolve: hosts.map((h) => `${h}=127.0.0.1:${originPort}`),
      ...flags,
    }),
    silentLogger,
  );
  const dash = dashboardClient(running.dashboardUrl, running.token);
  return {
    running,
    dash,
    dir,
    async api(method, path, body) {
      const res = await fetch(running.dashboardUrl + path, {
        method,
        headers: { authorization: `Bearer ${running.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
    },
    async flow(host, pathPrefix, extra) {
      const list = await dash.waitFor((fs) => fs.some((f) => f.host === host && f.path.startsWith(pathPrefix) && (!extra || extra(f))), 3000);
      const f = list.find((x) => x.host === host && x.path.startsWith(pathPrefix) && (!extra || extra(x)));
      if (!f) throw new Error(`no flow for ${host}${pathPrefix}`);
      return f;
    },
    async close() {
      await running.close(500);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
