/**
 * The leakwatch target: `node dist/cli/main.js start` with its whole pipeline (built-in rule packs,
 * extraction, SQLite recording in a throw-away data dir) plus a WebSocket client draining the
 * dashboard's live stream for the whole run. Host names reach the origin via one --resolve each.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultsDir } from './config.js';
import type { Child } from './proc.js';
import { freePort, startChild } from './proc.js';
import { benchDir, waitPort, type TargetSpec } from './targets.js';

export const leakwatchMain = join(benchDir, '..', 'cli', 'main.js');
/** Values the bench puts in every request's query string (run.ts BEACON). */
const IDENTITIES = ['email=alice@example.com', 'device_id=a1b2c3d4e5f60718'];

/** The proxy's own counters (flows, findings, recorder written/dropped): shows recording kept up. */
async function metrics(dport: number, token: string): Promise<Record<string, number> | string> {
  try {
    const res = await fetch(`http://127.0.0.1:${dport}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    if (!res.ok) return `metrics: HTTP ${res.status}`;
    const out: Record<string, number> = {};
    // Labelled series (findings by kind, ...) are summed per metric name.
    for (const m of text.matchAll(/^leakwatch_([a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/gm)) {
      out[m[1] as string] = (out[m[1] as string] ?? 0) + Number(m[2]);
    }
    return out;
  } catch (err: unknown) {
    return `metrics: ${String(err)}`;
  }
}

/** Node flags that make the leakwatch process write .cpuprofile files to bench/results/prof/. */
export function cpuProfFlags(): string[] {
  const dir = join(resultsDir, 'prof');
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/** Extra node flags for the proxy process, e.g. cpuProfFlags() for profiling. */
export function leakwatchTarget(nodeFlags: readonly string[] = []): TargetSpec {
  return {
    name: 'leakwatch',
    hostMapping: '--resolve hN.bench.test=127.0.0.1:PORT per name; SNI/Host kept, upstream verified (--upstream-ca)',
    unavailable: () => (existsSync(leakwatchMain) ? null : `${leakwatchMain} missing: run \`npm run build\``),
    async start(env) {
      const dataDir = join(env.tmp, `lw-data-${Date.now()}`);
      const [port, dport] = [await freePort(), await freePort()];
      const args = [
        ...nodeFlags, leakwatchMain, 'start',
        '--port', String(port), '--dashboard-port', String(dport),
        '--data-dir', dataDir, '--upstream-ca', env.pki.caCertFile,
        ...env.hosts.flatMap((h) => ['--resolve', `${h}=127.0.0.1:${env.originPort}`]),
        // The user's own values, as a real audit would have them: the known-value scan then finds
        // them in every bench request's query (run.ts), so findings, stored bodies and the stream
        // carry real work (the bench hosts match no rule pack, which alone leaves extraction idle).
        ...(process.env.LW_BENCH_NO_IDENTITY ? [] : IDENTITIES.flatMap((v) => ['--identity', v])),
        ...(process.env.LW_BENCH_ARGS ?? '').split(' ').filter(Boolean),
      ];
      const lw = startChild(process.execPath, args, { env: { ...process.env, NO_COLOR: '1' } });
      let drain: Child | null = null;
      let token = '';
      try {
        // The start-up line carries the dashboard URL with ?token=…
        const m = await lw.waitLine(/[?&]token=([^\s&#]+)/, 60_000);
        await waitPort(port, 30_000);
        const tokenFile = join(dataDir, 'dashboard-token');
        token = m[1] ? decodeURIComponent(m[1]) : readFileSync(tokenFile, 'utf8').trim();
        if (!process.env.LW_BENCH_NO_WS) drain = startChild(process.execPath, [join(benchDir, 'ws-drain.js'), `ws://127.0.0.1:${dport}/api/stream`, token]);
        await drain?.waitLine(/^open/, 15_000);
      } catch (err: unknown) {
        await drain?.stop();
        await lw.stop();
        throw new Error(`leakwatch did not start: ${String(err)}\n--- leakwatch output ---\n${lw.log().slice(-3000)}`);
      }
      const ca = [readFileSync(join(dataDir, 'ca', 'leakwatch-ca.pem'))];
      const ws = drain;
      if (!ws) return { pid: lw.pid, proxy: `http://127.0.0.1:${port}`, ca, stop: () => lw.stop() };
      return {
        pid: lw.pid,
        proxy: `http://127.0.0.1:${port}`,
        ca,
        async extra() {
          const counters = await metrics(dport, token);
          // SIGTERM makes the drain print its totals as its last stdout line.
          const done = ws.waitLine(/^\{"messages"/, 5000).catch(() => null);
          await ws.stop();
          const line = await done;
          const stats: Record<string, unknown> = line ? JSON.parse(line.input ?? '{}') : { messages: null };
          return { ws: stats, metrics: counters };
        },
        async stop() {
          await ws.stop();
          await lw.stop();
        },
      };
    },
  };
}
