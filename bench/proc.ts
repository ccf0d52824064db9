/**
 * Child processes of the bench and what /proc says about them. Every child is tracked from spawn
 * until it exits, so an error or Ctrl-C still stops all of them (by their own pid, nothing else).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const live = new Set<ChildProcess>();
const TICKS_PER_S = 100; // USER_HZ: 100 on every Linux Node supports

export interface Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** stdout+stderr collected so far (last 64 KB), for error messages. */
  log(): string;
  /** Resolves with the first stdout line matching `re` (rejects on exit or timeout). */
  waitLine(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

export function startChild(cmd: string, args: readonly string[], opts: SpawnOptions = {}): Child {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  if (proc.pid === undefined) throw new Error(`could not start ${cmd}`);
  const pid = proc.pid;
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  let out = '';
  const lines: string[] = [];
  const waiters = new Set<(line: string) => void>();
  let partial = '';
  const onData = (isStdout: boolean) => (chunk: Buffer) => {
    const s = chunk.toString();
    out = (out + s).slice(-65536);
    if (!isStdout) return;
    partial += s;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const w of waiters) w(line);
    }
  };
  proc.stdout?.on('data', onData(true));
  proc.stderr?.on('data', onData(false));
  return {
    proc,
    pid,
    log: () => out,
    waitLine(re, timeoutMs) {
      const seen = lines.map((l) => l.match(re)).find((m) => m !== null);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const done = (err: Error | null, m?: RegExpMatchArray): void => {
          clearTimeout(timer);
          waiters.delete(onLine);
          proc.off('close', onExit);
          if (err) reject(err);
          else if (m) resolve(m);
        };
        const onLine = (line: string): void => {
          const m = line.match(re);
          if (m) done(null, m);
        };
        const onExit = (code: number | null): void =>
          done(new Error(`${cmd} exited (${code}) before printing ${re}:\n${out.slice(-2000)}`));
        const timer = setTimeout(() => done(new Error(`${cmd}: no ${re} within ${timeoutMs} ms:\n${out.slice(-2000)}`)), timeoutMs);
        waiters.add(onLine);
        proc.once('close', onExit);
      });
    },
    stop: () => stopProc(proc),
  };
}

async function stopProc(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  // leakwatch finishes in-flight exchanges for up to 5 s and flushes the store on SIGTERM.
  const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map(stopProc));
}

const cleanups: Array<() => void> = [];
/** Synchronous clean-up (temp dirs) that must also happen on Ctrl-C. */
export function atCleanup(fn: () => void): void {
  cleanups.push(fn);
}
const runCleanups = (): void => {
  for (const fn of cleanups.splice(0)) {
    try {
      fn();
    } catch (err: unknown) {
      process.stderr.write(`bench: clean-up failed: ${String(err)}\n`);
    }
  }
};

let hooked = false;
/** Ctrl-C / SIGTERM / a crash: stop the children first, then leave with a non-zero code. */
export function installCleanup(): void {
  if (hooked) return;
  hooked = true;
  // Last resort when the process exits without awaiting stopAll (process.exit from elsewhere).
  process.on('exit', () => {
    for (const p of live) p.kill('SIGKILL');
    runCleanups();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping ${live.size} child process(es)\n`);
      void stopAll().finally(() => (runCleanups(), process.exit(130)));
    });
  }
}

/** Our pid plus all descendants (a proxy that forks workers is measured as a whole). */
function tree(pid: number): number[] {
  const kids = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      const list = kids.get(ppid) ?? [];
      list.push(Number(d));
      kids.set(ppid, list);
    } catch (err: unknown) {
      void err; // the process ended while we looked: not ours to count
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(kids.get(out[i] as number) ?? []));
  return out;
}

/** utime+stime (all threads) of pid and its descendants, in microseconds. */
export function cpuMicros(pid: number): number {
  let ticks = 0;
  for (const p of tree(pid)) {
    try {
      const st = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // fields 14 and 15 of stat(5)
    } catch (err: unknown) {
      void err;
    }
  }
  return (ticks * 1e6) / TICKS_PER_S;
}

/** Resident set size of pid alone, MB; NaN once the process is gone. */
export function rssMb(pid: number): number {
  const kib = rssKiB(pid);
  return kib > 0 ? kib / 1024 : NaN;
}

/** Resident set size of pid, KiB; 0 once the process is gone (samplers keep running). */
export function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** A free loopback port (tiny race between close and the child's listen; fine on a bench box). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
