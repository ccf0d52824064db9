/**
 * Load and crash soak: a steady request rate through the REAL proxy process
 * (`node dist/cli/main.js start`) for a set time, with a known count of requests, then:
 *   1. SIGTERM while the load is still running: every exchange the proxy answered must be in the
 *      store (queried from the SQLite file after exit), integrity_check ok, exit code 0;
 *   2. a second process on a fresh data dir, SIGKILLed under load: integrity_check ok and at most
 *      one batch window (flush every 100 ms) of answered exchanges missing;
 *   3. the proxy's RSS sampled every second over phase 1 (the curve is printed).
 *
 *   npm run build && npm run soak -- --seconds 600 [--rate 200] [--concurrency 16] [--kill-seconds 10]
 *
 * `runSoak()` is also called by test/hostile/load.test.ts with a few seconds per phase.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { rssKiB } from './proc.js';
import { loadOrCreateCa } from '../certs/ca.js';
import { createLeafIssuer } from '../certs/leaf.js';

/** The package root, whether this runs from bench/ (vitest) or dist/bench/ (npm run soak). */
const ROOT = ((): string => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return d;
})();
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const START_LINE = /proxy http:\/\/\S+?:(\d+) · dashboard (http:\/\/\S+?:\d+)\/\?token=(\S+)/;

export interface SoakOptions {
  /** Seconds of steady load before the SIGTERM (phase 1). */
  readonly seconds: number;
  /** Requests per second (half plain HTTP, half HTTPS through CONNECT). */
  readonly rate?: number;
  /** Requests in flight at most; a tick that would exceed it skips (counted). */
  readonly concurrency?: number;
  /** Seconds of load before the SIGKILL (phase 2); 0 skips phase 2. */
  readonly killSeconds?: number;
  readonly log?: (line: string) => void;
}

export interface PhaseResult {
  readonly sent: number;
  readonly answered: number;
  readonly failed: number;
  readonly skipped: number;
  readonly stored: number;
  /** Answered request paths missing from the store. */
  readonly missing: number;
  readonly integrity: string;
  readonly exit: number | string;
  readonly seconds: number;
}

export interface SoakResult {
  readonly term: PhaseResult;
  readonly kill?: PhaseResult & { readonly windowBound: number };
  /** [seconds since start, RSS KiB] every second of phase 1. */
  readonly rss: ReadonlyArray<readonly [number, number]>;
}

interface Origins {
  readonly plainPort: number;
  readonly tlsPort: number;
  readonly caFile: string;
  close(): Promise<void>;
}

async function startOrigins(dir: string): Promise<Origins> {
  const ca = await loadOrCreateCa(join(dir, 'origin-pki'));
  const leaf = (await createLeafIssuer(ca)).issue('soak-tls.test');
  const caFile = join(dir, 'origin-ca.pem');
  writeFileSync(caFile, ca.certPem);
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  };
  const plain = http.createServer(handler);
  const secure = https.createServer({ key: leaf.keyPem, cert: leaf.certPem }, handler);
  for (const s of [plain, secure]) s.keepAliveTimeout = 60_000;
  await Promise.all([plain, secure].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  return {
    plainPort: (plain.address() as AddressInfo).port,
    tlsPort: (secure.address() as AddressInfo).port,
    caFile,
    close: async () => {
      for (const s of [plain, secure]) s.closeAllConnections();
      await Promise.all([plain, secure].map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}

interface Proxy {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly caPem: string;
  readonly exited: Promise<number | string>;
}

async function startProxy(dataDir: string, origins: Origins): Promise<Proxy> {
  const args = [
    CLI, 'start', '--port', '0', '--dashboard-port', '0', '--data-dir', dataDir, '--store-bodies', 'none',
    '--resolve', `soak.test=127.0.0.1:${origins.plainPort}`, '--resolve', `soak-tls.test=127.0.0.1:${origins.tlsPort}`,
    '--upstream-ca', origins.caFile,
  ];
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-20_000)));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig ?? 'unknown')));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`proxy did not start: ${err}`)), 30_000);
    proc.stdout!.on('data', () => {
      const m = START_LINE.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    void exited.then((c) => reject(new Error(`proxy exited (${c}) before start: ${err}`)));
  });
  return { proc, port, caPem: readFileSync(join(dataDir, 'ca', 'leakwatch-ca.pem'), 'utf8'), exited };
}

/** An https.Agent that tunnels through the proxy with CONNECT (keep-alive: many requests per tunnel). */
class TunnelAgent extends https.Agent {
  constructor(private readonly proxyPort: number, opts: https.AgentOptions) {
    super({ keepAlive: true, ...opts });
    (this as unknown as { createConnection: unknown }).createConnection = (o: tls.ConnectionOptions & { host: string; port: number }, cb: (e: Error | null, s?: net.Socket) => void) => {
      const s = net.connect(this.proxyPort, '127.0.0.1');
      let buf = '';
      const onData = (c: Buffer): void => {
        buf += c.toString('latin1');
        if (!buf.includes('\r\n\r\n')) return;
        s.off('data', onData);
        if (!/^HTTP\/1\.1 200/.test(buf)) {
          s.destroy();
          return cb(new Error(`CONNECT: ${buf.split('\r\n')[0]}`));
        }
        cb(null, tls.connect({ ...o, socket: s, servername: o.host }));
      };
      s.on('data', onData);
      s.once('error', (e) => cb(e));
      s.write(`CONNECT ${o.host}:${o.port} HTTP/1.1\r\nHost: ${o.host}:${o.port}\r\n\r\n`);
      return undefined;
    };
  }
}

interface Load {
  readonly sent: () => number;
  readonly answeredPaths: Set<string>;
  readonly failed: () => number;
  readonly skipped: () => number;
  /** Stop issuing; resolves when every request in flight has settled. */
  stop(): Promise<void>;
}

function startLoad(proxy: Proxy, rate: number, concurrency: number, tag: string): Load {
  const plainAgent = new http.Agent({ keepAlive: true, maxSockets: Math.max(1, concurrency / 2) });
  const tlsAgent = new TunnelAgent(proxy.port, { ca: proxy.caPem, maxSockets: Math.max(1, concurrency / 2) });
  const answeredPaths = new Set<string>();
  let sent = 0;
  let failed = 0;
  let skipped = 0;
  let inFlight = 0;
  let stopped = false;
  let settle: (() => void) | undefined;
  const t0 = Date.now();
  const one = (): void => {
    const i = sent++;
    const path = `/soak/${tag}/${i}`;
    const secure = i % 2 === 1;
    inFlight++;
    const done = (ok: boolean): void => {
      inFlight--;
      if (ok) answeredPaths.add(path);
      else failed++;
      if (stopped && inFlight === 0) settle?.();
    };
    const opts: https.RequestOptions = secure
      ? { host: 'soak-tls.test', port: 443, path, agent: tlsAgent, method: 'POST', headers: { 'content-type': 'application/json' } }
      : { host: '127.0.0.1', port: proxy.port, path: `http://soak.test${path}`, agent: plainAgent, method: 'POST', headers: { host: 'soak.test', 'content-type': 'application/json' } };
    const req = (secure ? https : http).request(opts, (res) => {
      res.resume();
      res.once('end', () => done(res.statusCode === 200));
      res.once('error', () => done(false));
    });
    req.setTimeout(15_000, () => req.destroy());
    req.once('error', () => done(false));
    req.end(JSON.stringify({ i, note: 'soak' }));
  };
  // Steady: each 10 ms tick brings the count up to rate * elapsed.
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - t0) / 1000) * rate);
    while (sent + skipped < due) {
      if (inFlight >= concurrency) {
        skipped++;
        continue;
      }
      one();
    }
  }, 10);
  return {
    sent: () => sent,
    answeredPaths,
    failed: () => failed,
    skipped: () => skipped,
    stop() {
      stopped = true;
      clearInterval(timer);
      return new Promise<void>((resolve) => {
        const finish = (): void => {
          plainAgent.destroy();
          tlsAgent.destroy();
          resolve();
        };
        if (inFlight === 0) return finish();
        settle = finish;
      });
    },
  };
}

function storedPaths(dataDir: string, tag: string): { paths: Set<string>; integrity: string } {
  const db = new Database(join(dataDir, 'leakwatch.db'));
  try {
    const integrity = String(db.pragma('integrity_check', { simple: true }));
    const rows = db.prepare('SELECT path FROM exchanges WHERE path LIKE ?').pluck().all(`/soak/${tag}/%`) as string[];
    return { paths: new Set(rows), integrity };
  } finally {
    db.close();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const rate = opts.rate ?? 200;
  const concurrency = opts.concurrency ?? 16;
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const dir = mkdtempSync(join(tmpdir(), 'lw-soak-'));
  const origins = await startOrigins(dir);
  try {
    // Phase 1: steady load, RSS every second, SIGTERM while the load still runs.
    const dataDir = join(dir, 'term');
    const proxy = await startProxy(dataDir, origins);
    const rss: Array<[number, number]> = [];
    const t0 = Date.now();
    const sampler = setInterval(() => rss.push([Math.round((Date.now() - t0) / 1000), rssKiB(proxy.proc.pid!)]), 1000);
    rss.push([0, rssKiB(proxy.proc.pid!)]);
    const load = startLoad(proxy, rate, concurrency, 'term');
    let lastReport = 0;
    while (Date.now() - t0 < opts.seconds * 1000) {
      await sleep(250);
      if (Date.now() - lastReport >= 30_000 && opts.seconds >= 60) {
        lastReport = Date.now();
        log(`  t=${Math.round((Date.now() - t0) / 1000)}s sent=${load.sent()} answered=${load.answeredPaths.size} failed=${load.failed()} rss=${Math.round(rssKiB(proxy.proc.pid!) / 1024)} MiB`);
      }
    }
    clearInterval(sampler);
    proxy.proc.kill('SIGTERM');
    const [exit] = await Promise.all([proxy.exited, load.stop()]);
    const stored1 = storedPaths(dataDir, 'term');
    let missing1 = 0;
    for (const p of load.answeredPaths) if (!stored1.paths.has(p)) missing1++;
    const term: PhaseResult = {
      sent: load.sent(),
      answered: load.answeredPaths.size,
      failed: load.failed(),
      skipped: load.skipped(),
      stored: stored1.paths.size,
      missing: missing1,
      integrity: stored1.integrity,
      exit,
      seconds: opts.seconds,
    };
    log(`SIGTERM phase (${opts.seconds} s at ${rate} req/s): sent ${term.sent}, answered ${term.answered}, failed ${term.failed} (sent after the SIGTERM or cut by it), skipped ${term.skipped}, stored ${term.stored}, answered but missing ${term.missing}, integrity ${term.integrity}, exit ${term.exit}`);
    const values = rss.map(([, k]) => k);
    log(`RSS (MiB) every second: ${rss.map(([, k]) => (k / 1024).toFixed(0)).join(' ')}`);
    const settledFrom = Math.min(values.length - 1, 5);
    const settled = values.slice(settledFrom);
    log(`RSS: start ${(values[0]! / 1024).toFixed(1)} MiB, after 5 s ${(values[settledFrom]! / 1024).toFixed(1)}, min ${(Math.min(...settled) / 1024).toFixed(1)}, max ${(Math.max(...values) / 1024).toFixed(1)}, end ${(values[values.length - 1]! / 1024).toFixed(1)} MiB`);

    // Phase 2: SIGKILL under load on a fresh data dir.
    let kill: SoakResult['kill'];
    const killSeconds = opts.killSeconds ?? Math.min(10, opts.seconds);
    if (killSeconds > 0) {
      const dataDir2 = join(dir, 'kill');
      const proxy2 = await startProxy(dataDir2, origins);
      const load2 = startLoad(proxy2, rate, concurrency, 'kill');
      await sleep(killSeconds * 1000);
      const answeredAtKill = new Set(load2.answeredPaths);
      proxy2.proc.kill('SIGKILL');
      const [exit2] = await Promise.all([proxy2.exited, load2.stop()]);
      const stored2 = storedPaths(dataDir2, 'kill');
      let missing2 = 0;
      for (const p of answeredAtKill) if (!stored2.paths.has(p)) missing2++;
      // One batch window is 100 ms of traffic; exchanges also wait for the audit stage, so allow
      // two windows' worth plus what was in flight.
      const windowBound = Math.ceil(rate * 0.2) + concurrency;
      kill = {
        sent: load2.sent(),
        answered: answeredAtKill.size,
        failed: load2.failed(),
        skipped: load2.skipped(),
        stored: stored2.paths.size,
        missing: missing2,
        integrity: stored2.integrity,
        exit: exit2,
        seconds: killSeconds,
        windowBound,
      };
      log(`SIGKILL phase (${killSeconds} s): answered ${kill.answered}, stored ${kill.stored}, answered but missing ${kill.missing} (bound ${windowBound}: one 100 ms batch window at ${rate} req/s, with margin), integrity ${kill.integrity}, exit ${kill.exit}`);
    }
    return { term, ...(kill ? { kill } : {}), rss };
  } finally {
    await origins.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) {
    process.stderr.write(`soak: --${name} needs a number\n`);
    process.exit(2);
  }
  return v;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const seconds = flag('seconds', 60);
  runSoak({ seconds, rate: flag('rate', 200), concurrency: flag('concurrency', 16), killSeconds: flag('kill-seconds', Math.min(10, seconds)) }).then(
    (r) => {
      const ok = r.term.missing === 0 && r.term.integrity === 'ok' && r.term.exit === 0 && (!r.kill || (r.kill.integrity === 'ok' && r.kill.missing <= r.kill.windowBound));
      process.stdout.write(`soak: ${ok ? 'PASS' : 'FAIL'}\n`);
      process.exit(ok ? 0 : 1);
    },
    (err: unknown) => {
      process.stderr.write(`soak: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
