/**
 * One host grammar for every flag that names hosts: `--passthrough` and `--block` accept the same
 * hosts (underscores included) and refuse the same typos, and both then work on such a host.
 * Real process, real clients.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpViaProxy, openTunnel } from '../helpers/connect-client.js';
import { CLI, spawnLeakwatch, startStandins, tempDir, type Leakwatch, type Standins } from './harness.js';

let lw: Leakwatch;
let standins: Standins;

beforeAll(async () => {
  standins = await startStandins();
  lw = await spawnLeakwatch({
    args: [
      ...standins.args, '--mode', 'enforce',
      '--resolve', `a_b.test=127.0.0.1:${standins.good.port}`, '--resolve', `_x.test=127.0.0.1:${standins.plain.port}`,
      '--passthrough', 'a_b.test', '--passthrough', '*._p.test', '--block', '_x.test', '--block', '*.a_c.test',
    ],
  });
}, 30_000);

afterAll(async () => {
  await lw?.stop();
  await standins?.close();
});

describe('--passthrough and --block share the host grammar', () => {
  it.each(['a b.test', '*.*.test', 'http://x.test', '-x.test'])('both refuse %j with one line, exit 2', (host) => {
    for (const flag of ['--passthrough', '--block']) {
      const r = spawnSync(process.execPath, [CLI, 'start', '--port', '0', '--dashboard-port', '0', '--data-dir', tempDir(), flag, host], { encoding: 'utf8', timeout: 15_000 });
      expect(r.status, `${flag} ${host}`).toBe(2);
      expect(r.stderr.trim().split('\n'), `${flag} ${host}`).toHaveLength(1);
      expect(r.stderr).toContain(flag);
    }
  });

  it('--block _x.test blocks that host (enforce), the origin never sees it', async () => {
    const before = standins.plain.seen.length;
    const r = await httpViaProxy(lw.proxyPort, 'http://_x.test/hello');
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.headers['x-leakwatch-error'] ?? r.headers['x-leakwatch-verdict'] ?? 'blocked').toBeTruthy();
    expect(standins.plain.seen.length).toBe(before);
  });

  it('--passthrough a_b.test tunnels without interception: the origin\'s own certificate arrives', async () => {
    const originCa = readFileSync(standins.caFile, 'utf8');
    const t = await openTunnel(lw.proxyPort, 'a_b.test:443');
    expect(t.status).toBe(200);
    const issuer = await new Promise<string>((resolve, reject) => {
      // Trusting only the origin's CA: a leakwatch leaf would fail here.
      const s = tls.connect({ socket: t.socket, servername: 'good.test', ca: originCa });
      s.once('secureConnect', () => {
        resolve(String(s.getPeerCertificate().issuer?.CN ?? ''));
        s.destroy();
      });
      s.once('error', reject);
    });
    // The origin's test CA, not this leakwatch's CA (both are made by the same code, so compare names).
    const ours = /CN=([^\n]+)/.exec(new X509Certificate(lw.caPem).subject)?.[1];
    expect(ours).toBeTruthy();
    expect(issuer).not.toBe(ours);
  });
});
