/**
 * The hostile suite runs against the REAL proxy process: `node dist/cli/main.js start --port 0
 * --dashboard-port 0 --data-dir <tmp>` with stand-in origins reached through `--resolve` and
 * trusted through `--upstream-ca`. The start-up line names both real ports and the token.
 *
 *   const lw = await spawnLeakwatch({ resolve: ['good.test=127.0.0.1:1234'], upstreamCa: [file] });
 *   await lw.stillServes();   // after every hostile case: a normal request works, the process lives
 */
import Database from 'better-sqlite3';
import { afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { ConnectAgent, httpViaProxy, request } from '../helpers/connect-client.js';
import { repoRoot } from '../helpers/built.js';
import { startOrigin, type Handler, type Origin } from '../helpers/origin.js';
import { testPki } from '../helpers/tls-fixtures.js';
import { rssKiB } from '../../bench/proc.js';
import { until as untilHelper } from '../helpers/until.js';
import { tempDir as tempDirHelper } from '../helpers/temp.js';

export const CLI = join(repoRoot, 'dist/cli/main.js');

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
// A child still running at the end of the file is stopped before its data dir is removed (the
// temp helper's own afterAll runs after this one), or it could write into the removed folder.
afterAll(async () => {
  await Promise.all([...children].map((c) => new Promise((r) => { c.once('exit', r); c.kill('SIGKILL'); })));
});

export const tempDir = (prefix = 'lw-hostile-'): string => tempDirHelper(prefix);

export interface Leakwatch {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly proxyPort: number;
  readonly dashboardPort: number;
  readonly dashboardUrl: string;
  readonly token: string;
  readonly dataDir: string;
  readonly caPem: string;
  stdout(): string;
  stderr(): string;
  alive(): boolean;
  /** A normal HTTPS request through CONNECT to good.test answers 'ok', and the process is alive. */
  stillServes(): Promise<void>;
  /** Sends a signal and resolves with the exit code (or the signal name). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
  /** The RSS of the proxy process in KiB (from /proc). */
  rssKiB(): number;
  /** Dashboard API GET with the token. */
  api<T = unknown>(path: string): Promise<T>;
}

export interface SpawnOptions {
  readonly args?: readonly string[];
  readonly dataDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly startTimeoutMs?: number;
  /** Local address api() calls come from (the dashboard may admit only some clients). */
  readonly apiFrom?: string;
}

const START_LINE = /proxy http:\/\/(\S+):(\d+) · dashboard (https?:\/\/\S+?:(\d+))\/\?token=(\S+)/;

export async function spawnLeakwatch(opts: SpawnOptions = {}): Promise<Leakwatch> {
  const dataDir = opts.dataDir ?? join(tempDir(), 'data');
  const args = ['start', '--port', '0', '--dashboard-port', '0', '--data-dir', dataDir, ...(opts.args ?? [])];
  const proc = spawn(process.execPath, [CLI, ...args], { cwd: repoRoot, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-200_000)));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, sig) => {
    children.delete(proc);
    resolve(code ?? sig ?? 'unknown');
  }));
  const m = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`leakwatch did not start in time; stderr: ${err.slice(0, 2000)}`)), opts.startTimeoutMs ?? 20_000);
    const check = (): void => {
      const hit = START_LINE.exec(out);
      if (hit) {
        clearTimeout(timer);
        resolve(hit);
      }
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`leakwatch exited (${code}) before start-up; stderr: ${err.slice(0, 2000)}`));
    });
  });
  const proxyPort = Number(m[2]);
  const dashboardUrl = m[3]!;
  const token = m[5]!;
  const caPem = readFileSync(join(dataDir, 'ca', 'leakwatch-ca.pem'), 'utf8');
  const lw: Leakwatch = {
    proc,
    pid: proc.pid!,
    proxyPort,
    dashboardPort: Number(m[4]),
    dashboardUrl,
    token,
    dataDir,
    caPem,
    stdout: () => out,
    stderr: () => err,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    async stillServes() {
      if (!lw.alive()) throw new Error(`leakwatch died; stderr: ${err.slice(-2000)}`);
      const agent = new ConnectAgent(proxyPort, { ca: caPem, keepAlive: false });
      try {
        const r = await request(https, { host: 'good.test', port: 443, path: '/hello', agent });
        if (r.status !== 200 || r.body.toString() !== 'ok') throw new Error(`normal request got ${r.status} ${r.body.toString().slice(0, 100)}`);
      } finally {
        agent.destroy();
      }
      const p = await httpViaProxy(proxyPort, 'http://plain.test/hello');
      if (p.status !== 200 || p.body.toString() !== 'ok') throw new Error(`normal plain request got ${p.status}`);
      if (!lw.alive()) throw new Error('leakwatch died');
    },
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (!lw.alive()) return exited;
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
    rssKiB: () => rssKiB(proc.pid!),
    async api<T>(path: string): Promise<T> {
      // Beyond loopback the dashboard speaks HTTPS with a leaf from leakwatch's CA.
      const secure = dashboardUrl.startsWith('https:');
      const r = await request(secure ? https : http, {
        host: '127.0.0.1', port: lw.dashboardPort, path, headers: { authorization: `Bearer ${token}` }, agent: false,
        ...(secure ? { ca: caPem } : {}), ...(opts.apiFrom ? { localAddress: opts.apiFrom } : {}),
      });
      if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
      return JSON.parse(r.body.toString()) as T;
    },
  };
  return lw;
}

export interface Standins {
  readonly good: Origin;
  readonly plain: Origin;
  readonly caFile: string;
  /** --resolve and --upstream-ca flags for good.test (HTTPS) and plain.test (HTTP). */
  readonly args: string[];
  close(): Promise<void>;
}

/** good.test (HTTPS, trusted via --upstream-ca) and plain.test (HTTP): `/hello` -> "ok". */
export async function startStandins(routes: Record<string, Handler> = {}): Promise<Standins> {
  const pki = await testPki('origin');
  const all: Record<string, Handler> = { '/hello': (_q, r) => r.end('ok'), ...routes };
  const good = await startOrigin({ tls: pki.leaf('good.test'), routes: all, ws: true });
  const plain = await startOrigin({ routes: all, ws: true });
  const caFile = join(tempDir(), 'origin-ca.pem');
  writeFileSync(caFile, pki.caPem);
  return {
    good,
    plain,
    caFile,
    args: ['--resolve', `good.test=127.0.0.1:${good.port}`, '--resolve', `plain.test=127.0.0.1:${plain.port}`, '--upstream-ca', caFile],
    async close() {
      await good.close();
      await plain.close();
    },
  };
}

/** Opens the store read-only (after the process exited, or live: WAL readers are fine). */
export function openDb(dataDir: string): Database.Database {
  return new Database(join(dataDir, 'leakwatch.db'), { readonly: true, fileMustExist: true });
}

/** Sends raw bytes to a port and resolves with everything received until the server closes (or timeout). */
export function rawExchange(port: number, bytes: string | Buffer | Array<string | Buffer>, timeoutMs = 5000): Promise<{ reply: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      for (const b of Array.isArray(bytes) ? bytes : [bytes]) s.write(b);
    });
    let got = '';
    const t = setTimeout(() => {
      s.destroy();
      resolve({ reply: got, closedByServer: false });
    }, timeoutMs);
    s.on('data', (c: Buffer) => (got += c.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(t);
      resolve({ reply: got, closedByServer: true });
    });
  });
}

/** Polls until `fn` returns a truthy value, or throws with `what` after timeoutMs. */
export const until = <T>(fn: () => T | Promise<T>, timeoutMs: number, what: string): Promise<NonNullable<T>> =>
  untilHelper(fn, { timeoutMs, what, intervalMs: 50 });
