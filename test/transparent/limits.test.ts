/**
 * The transparent listeners obey --max-connections and --headers-timeout like the proxy port: idle
 * sockets (no ClientHello, no request head) are closed after the timeout, and at the bound the
 * oldest idle one makes room, so a flood of idle sockets neither exhausts descriptors nor locks
 * out a real client. Real process, real sockets.
 */
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../helpers/connect-client.js';
import { spawnLeakwatch, startStandins, until, type Leakwatch, type Standins } from '../hostile/harness.js';

const MAX = 5;
let lw: Leakwatch;
let standins: Standins;
let tHttps = 0;
let tHttp = 0;

function openIdle(port: number, n: number): Promise<net.Socket[]> {
  return Promise.all(
    Array.from({ length: n }, () =>
      new Promise<net.Socket>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => resolve(s));
        s.on('error', () => undefined);
      }),
    ),
  );
}

const openCount = (sockets: net.Socket[]): number => sockets.filter((s) => !s.destroyed && !s.readableEnded).length;

function watchClose(sockets: net.Socket[]): void {
  for (const s of sockets) {
    s.on('end', () => s.destroy());
    s.resume();
  }
}

beforeAll(async () => {
  standins = await startStandins();
  lw = await spawnLeakwatch({
    args: [...standins.args, '--transparent-https-port', '0', '--transparent-http-port', '0', '--max-connections', String(MAX), '--headers-timeout', '4'],
  });
  tHttps = Number(/transparent HTTPS :(\d+)/.exec(lw.stdout())![1]);
  tHttp = Number(/transparent HTTP :(\d+)/.exec(lw.stdout())![1]);
}, 30_000);

afterAll(async () => {
  await lw?.stop();
  await standins?.close();
});

describe.each([
  ['HTTPS', () => tHttps],
  ['HTTP', () => tHttp],
])('transparent %s', (kind, port) => {
  it(`keeps at most --max-connections idle sockets, and a real client still gets through`, async () => {
    const idle = await openIdle(port(), 4 * MAX);
    watchClose(idle);
    // Well before the 4 s headers timeout: only the connection bound can close them this early.
    await until(() => openCount(idle) <= MAX, 1000, `at most ${MAX} idle sockets left open`);
    const r =
      kind === 'HTTPS'
        ? await request(https, { host: '127.0.0.1', port: port(), path: '/hello', servername: 'good.test', headers: { host: 'good.test' }, ca: lw.caPem, agent: false })
        : await request(http, { host: '127.0.0.1', port: port(), path: '/hello', headers: { host: 'plain.test' }, agent: false });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('ok');
    for (const s of idle) s.destroy();
  });

  it('closes a socket that sends nothing within --headers-timeout', async () => {
    const [s] = await openIdle(port(), 1);
    watchClose([s!]);
    const started = Date.now();
    await until(() => s!.destroyed, 8000, 'the idle socket closed');
    const took = Date.now() - started;
    expect(took).toBeGreaterThan(3500);
    expect(took).toBeLessThan(7000);
  });
});
