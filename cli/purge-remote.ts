/**
 * How `leakwatch purge` reaches a leakwatch running on the same data dir: `start` writes
 * `<data-dir>/running.json` (0600: pid, dashboard url, CA certificate path) once the dashboard
 * listens and removes it on exit; `purge` posts the value to that dashboard (`POST /api/purge`,
 * with the token from `<data-dir>/dashboard-token`). A stale file (the process died) is ignored.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { TOKEN_FILE } from '../dashboard/token.js';
import type { PurgeReport } from '../store/purge.js';

const RUNNING_FILE = 'running.json';

interface RunningInfo {
  readonly pid: number;
  readonly url: string;
  readonly caPath: string;
}

/** Say where this process's dashboard is; returns the function that takes it back. */
export function announceRunning(dataDir: string, info: Omit<RunningInfo, 'pid'>): () => void {
  const file = join(dataDir, RUNNING_FILE);
  writeFileSync(file, JSON.stringify({ pid: process.pid, ...info }), { mode: 0o600 });
  chmodSync(file, 0o600);
  return () => {
    try {
      const now = JSON.parse(readFileSync(file, 'utf8')) as RunningInfo;
      // Another leakwatch may have started on the same dir since: its file stays.
      if (now.pid === process.pid) rmSync(file, { force: true });
    } catch {
      // Already gone.
    }
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: unknown) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readRunning(dataDir: string): RunningInfo | null {
  try {
    const info = JSON.parse(readFileSync(join(dataDir, RUNNING_FILE), 'utf8')) as RunningInfo;
    return Number.isInteger(info.pid) && typeof info.url === 'string' && alive(info.pid) ? info : null;
  } catch {
    return null;
  }
}

/**
 * The running process's report, or null when none runs on this data dir. A process that runs but
 * does not answer is an error: purging the file under it would leave the value in its memory.
 */
export async function purgeInRunningProcess(dataDir: string, value: string): Promise<PurgeReport | null> {
  const info = readRunning(dataDir);
  if (!info) return null;
  let token: string;
  try {
    token = readFileSync(join(dataDir, TOKEN_FILE), 'utf8').trim();
  } catch (err: unknown) {
    throw new ConfigError(`leakwatch runs on this data dir (pid ${info.pid}) but its dashboard token cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); stop it and purge again`);
  }
  const url = new URL('/api/purge', info.url);
  const body = JSON.stringify({ value });
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = send(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      timeout: 120_000,
      ...(url.protocol === 'https:' ? { ca: readFileSync(info.caPath) } : {}),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 120 s')));
    req.on('error', reject);
    req.end(body);
  }).catch((err: unknown) => {
    throw new ConfigError(`leakwatch runs on this data dir (pid ${info.pid}) but its dashboard ${info.url} did not answer (${(err as Error).message}); stop it and purge again`);
  });
  if (answer.status !== 200) {
    throw new ConfigError(`leakwatch runs on this data dir (pid ${info.pid}); its dashboard refused the purge (HTTP ${answer.status}: ${answer.text.slice(0, 200)})`);
  }
  return JSON.parse(answer.text) as PurgeReport;
}
