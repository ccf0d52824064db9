/** Runs the real curl (/usr/bin/curl) and splits its output; for end-to-end proxy tests. */
import { execFile } from 'node:child_process';

export interface CurlResult {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

export function curl(args: readonly string[], timeoutMs = 20_000): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('/usr/bin/curl', ['--silent', '--show-error', ...args], { encoding: 'buffer', timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) ?? 1 : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr: stderr.toString() });
    });
  });
}

/** `curl -i`-style status line and headers split off the body (-D - writes them to stdout). */
export function splitHead(out: Buffer): { status: number; headers: string; body: Buffer } {
  let rest = out;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return { status: 0, headers: '', body: rest };
    const head = rest.subarray(0, end).toString('latin1');
    const status = Number(head.split(' ')[1]);
    rest = rest.subarray(end + 4);
    // Skip the proxy's CONNECT answer and 1xx interim responses.
    if (/^HTTP\/1\.[01] 200 Connection Established/i.test(head) || (status >= 100 && status < 200)) continue;
    return { status, headers: head, body: rest };
  }
}
