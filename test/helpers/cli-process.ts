/**
 * The `leakwatch` command as a user runs it: a child process from the repository root (dist/,
 * built by the global setup), either directly or through the README's `npx leakwatch` /
 * `npm start --` forms. `startProcess` waits for the start-up banner and stops with SIGINT (the
 * whole process group, so `npm start`'s node child stops too).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './built.js';
import { until } from './until.js';

export const MAIN = join(repoRoot, 'dist/cli/main.js');

/** Environment for a run with HOME elsewhere: npm keeps using the real cache (npx's copy of the package). */
export function envWithHome(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, npm_config_cache: process.env['npm_config_cache'] ?? join(homedir(), '.npm'), npm_config_update_notifier: 'false', ...extra };
  delete env['LEAKWATCH_DATA_DIR'];
  delete env['LEAKWATCH_LOG_LEVEL'];
  return env;
}

export interface Done {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (argv[0] through PATH, or `sh -c` when given one string). */
export function run(cmd: string | readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Done> {
  const [file, ...args] = typeof cmd === 'string' ? ['sh', '-c', cmd] : cmd;
  return new Promise((resolve, reject) => {
    const p = spawn(file!, args, { cwd: repoRoot, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    p.once('error', reject);
    p.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Started {
  readonly proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGINT to the process group; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Spawns a long-running command and waits until its stdout matches `ready`. */
export async function startProcess(argv: readonly string[], opts: { env?: NodeJS.ProcessEnv; ready: RegExp; timeoutMs?: number }): Promise<Started> {
  const proc = spawn(argv[0]!, argv.slice(1), { cwd: repoRoot, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  const started: Started = {
    proc,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (!gone) process.kill(-proc.pid!, 'SIGINT');
      return exited;
    },
  };
  try {
    await until(() => {
      if (gone) throw new Error(`${argv.join(' ')} exited before it was ready; stderr: ${err.slice(0, 2000)}`);
      return opts.ready.test(out);
    }, { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 50, what: `${argv.join(' ')} to print ${opts.ready}` });
  } catch (e) {
    if (!gone) process.kill(-proc.pid!, 'SIGKILL');
    throw e;
  }
  return started;
}
