/**
 * Hostile upstreams against the real `leakwatch start` process: each gets a clear status or a
 * clean truncation, the client gets exactly the bytes the origin sent when there is a response,
 * and the same process keeps serving.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { join } from 'node:path';
import zlib from 'node:zlib';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectAgent, httpViaProxy, openTunnel, request } from '../helpers/connect-client.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { closedPort, onRequestHead, startRawOrigin, type RawOrigin } from '../helpers/raw-origin.js';
import { testPki } from '../helpers/tls-fixtures.js';
import { spawnLeakwatch, startStandins, tempDir, until, type Leakwatch, type Standins } from './harness.js';

let lw: Leakwatch;
let origins: Standins;
const extra: Array<Origin | RawOrigin> = [];
let bomb: Buffer;
let endlessClosed = false;

/** A leaf for `host`, signed by the trusted origin CA, that expired a year ago. */
async function expiredLeaf(host: string): Promise<{ key: string; cert: string }> {
  const pki = await testPki('origin');
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const caCert = forge.pki.certificateFromPem(pki.ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(pki.ca.keyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 2 * 365 * 86400_000);
  cert.validity.notAfter = new Date(Date.now() - 365 * 86400_000);
  cert.setSubject([{ name: 'commonName', value: host }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 2, value: host }] }, { name: 'extKeyUsage', serverAuth: true }]);
  cert.sign(caKey, forge.md.sha256.create());
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: forge.pki.certificateToPem(cert) };
}

/** 1 GiB of zeros, gzipped (about 1 MB), streamed so the test never holds the gigabyte. */
function gzipBomb(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const gz = zlib.createGzip({ level: 1 });
    const chunks: Buffer[] = [];
    gz.on('data', (c: Buffer) => chunks.push(c));
    gz.on('end', () => resolve(Buffer.concat(chunks)));
    gz.on('error', reject);
    const zeros = Buffer.alloc(1024 * 1024);
    let left = 1024;
    const pump = (): void => {
      while (left > 0) {
        left--;
        if (!gz.write(zeros)) return void gz.once('drain', pump);
      }
      gz.end();
    };
    pump();
  });
}

beforeAll(async () => {
  bomb = await gzipBomb();
  const rogue = await testPki('rogue');
  const badcert = await startOrigin({ tls: rogue.leaf('badcert.test'), routes: { '*': (_q, r) => r.end('should not see') } });
  const expired = await startOrigin({ tls: await expiredLeaf('expired.test'), routes: { '*': (_q, r) => r.end('should not see') } });
  const raw = async (fn: (s: net.Socket) => void): Promise<number> => {
    const r = await startRawOrigin(fn);
    extra.push(r);
    return r.port;
  };
  const hosts: Record<string, number> = {
    'badcert.test': badcert.port,
    'expired.test': expired.port,
    'refused.test': await closedPort(),
    'hang.test': await raw(() => undefined),
    'reset.test': await raw((s) =>
      onRequestHead(s, () => {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nContent-Type: text/plain\r\n\r\n');
        s.write('x'.repeat(1000), () => setTimeout(() => s.resetAndDestroy(), 50));
      }),
    ),
    'trailer.test': await raw((s) => onRequestHead(s, () => s.end('HTTP/1.1 200 OK\r\nTrailer: X-Sum\r\nContent-Length: 2\r\n\r\nok'))),
    'chunked-trailer.test': await raw((s) =>
      onRequestHead(s, () => s.end('HTTP/1.1 200 OK\r\nTrailer: X-Sum\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Sum: 1\r\n\r\n')),
    ),
  };
  extra.push(badcert, expired);
  const enc = await startOrigin({
    routes: {
      '/bogus': (_q, r) => {
        r.writeHead(200, { 'content-encoding': 'bogus, x-unknown', 'content-type': 'text/plain' });
        r.end('plain bytes');
      },
      '/badgzip': (_q, r) => {
        r.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' });
        r.end(Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
      },
      '/bomb': (_q, r) => {
        r.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain', 'content-length': String(bomb.length) });
        r.end(bomb);
      },
      '/upload': (req, r) => {
        req.resume();
        req.on('end', () => r.end('stored'));
      },
      '/endless': (req, r) => {
        r.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 7);
        const t = setInterval(() => r.write(chunk), 5);
        r.once('close', () => {
          clearInterval(t);
          endlessClosed = true;
        });
        req.socket.once('close', () => clearInterval(t));
      },
    },
  });
  extra.push(enc);
  origins = await startStandins();
  const resolve = Object.entries(hosts).flatMap(([h, p]) => ['--resolve', `${h}=127.0.0.1:${p}`]);
  lw = await spawnLeakwatch({ args: [...origins.args, ...resolve, '--resolve', `enc.test=127.0.0.1:${enc.port}`, '--upstream-timeout', '1', '--store-bodies', 'all'] });
}, 60_000);

afterAll(async () => {
  const code = await lw?.stop();
  await origins?.close();
  for (const o of extra) await o.close();
  expect(code).toBe(0);
});

const viaTls = (host: string, path = '/'): Promise<Awaited<ReturnType<typeof request>>> => {
  const agent = new ConnectAgent(lw.proxyPort, { ca: lw.caPem, keepAlive: false });
  return request(https, { host, port: 443, path, agent }).finally(() => agent.destroy());
};

interface FlowRow { id: number; host: string; url: string; status: number | null; error: string | null }
async function flowFor(host: string, path = ''): Promise<FlowRow> {
  return until(async () => (await lw.api<{ flows: FlowRow[] }>(`/api/flows?host=${host}`)).flows.find((f) => f.url.includes(path)), 5000, `a flow for ${host}${path}`);
}

describe('hostile upstreams', () => {
  it('refused.test -> the CONNECT itself is answered 502 LW_UPSTREAM_REFUSED (the origin is dialled before the 200)', async () => {
    const t = await openTunnel(lw.proxyPort, 'refused.test:443');
    t.socket.destroy();
    expect(t.status).toBe(502);
    expect(t.head).toMatch(/\r\nx-leakwatch-error: LW_UPSTREAM_REFUSED(?:\r\n|$)/i);
    await lw.stillServes();
  });

  it.each([
    ['hang.test', 504, 'LW_UPSTREAM_TIMEOUT'],
    ['badcert.test', 502, 'LW_UPSTREAM_TLS'],
    ['expired.test', 502, 'LW_UPSTREAM_TLS'],
  ])('%s -> %i %s (HTTPS through CONNECT)', async (host, status, code) => {
    const r = await viaTls(host);
    expect(r.status).toBe(status);
    expect(r.headers['x-leakwatch-error']).toBe(code);
    expect(r.body.toString()).toMatch(/^(Bad Gateway|Gateway Timeout)\n(upstream TLS: [a-z ]+\n)?$/);
    await lw.stillServes();
  });

  it('the expired certificate is refused for its date, not its issuer', async () => {
    const f = await flowFor('expired.test');
    const detail = await lw.api<{ notes: string[]; flow: { error: string | null } }>(`/api/flows/${f.id}`);
    expect(JSON.stringify(detail)).toMatch(/expired/i);
  });

  it('reset mid-body: the client sees a truncated response (no appended error text)', async () => {
    const r = await httpViaProxy(lw.proxyPort, 'http://reset.test/').then(
      (x) => ({ ok: true as const, len: x.body.length, body: x.body.toString() }),
      (e: Error) => ({ ok: false as const, err: e.message }),
    );
    if (r.ok) {
      expect(r.len).toBeLessThan(100000);
      expect(r.body).toMatch(/^x*$/);
    } else expect(r.err).toMatch(/aborted|socket hang up|ECONNRESET/);
    await lw.stillServes();
  });

  it.each(['trailer.test', 'chunked-trailer.test'])('%s: a Trailer header does not crash the process', async (host) => {
    const r = await httpViaProxy(lw.proxyPort, `http://${host}/`);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('ok');
    await lw.stillServes();
  });

  it('unknown Content-Encoding: bytes and header reach the client untouched', async () => {
    const r = await httpViaProxy(lw.proxyPort, 'http://enc.test/bogus');
    expect(r.headers['content-encoding']).toBe('bogus, x-unknown');
    expect(r.body.toString()).toBe('plain bytes');
    await lw.stillServes();
  });

  it('invalid gzip: the client gets the origin bytes; the proxy does not choke', async () => {
    const r = await httpViaProxy(lw.proxyPort, 'http://enc.test/badgzip');
    expect([...r.body]).toEqual([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await lw.stillServes();
  });

  it('gzip bomb response (1 GiB of zeros): the client gets the original compressed bytes, RSS stays bounded', async () => {
    const before = lw.rssKiB();
    const r = await httpViaProxy(lw.proxyPort, 'http://enc.test/bomb', { headers: { 'accept-encoding': 'gzip' } });
    expect(r.body.length).toBe(bomb.length);
    expect(createHash('sha256').update(r.body).digest('hex')).toBe(createHash('sha256').update(bomb).digest('hex'));
    await lw.stillServes();
    const f = await flowFor('enc.test', '/bomb');
    // Viewing it must not inflate a gigabyte either.
    await lw.api(`/api/flows/${f.id}`);
    expect(lw.rssKiB() - before).toBeLessThan(300 * 1024);
  });

  it('gzip bomb request body: forwarded as is; decoding stops at the cap and the notes say so', async () => {
    const r = await httpViaProxy(
      lw.proxyPort,
      'http://enc.test/upload',
      { method: 'POST', headers: { 'content-encoding': 'gzip', 'content-type': 'application/json', 'content-length': String(bomb.length) } },
      bomb,
    );
    expect(r.body.toString()).toBe('stored');
    const f = await flowFor('enc.test', '/upload');
    const detail = await lw.api<{ notes: string[] }>(`/api/flows/${f.id}`);
    expect(detail.notes.join('\n')).toMatch(/request\.body: content-encoding gzip: decoded size over \d+ bytes; truncated/);
    await lw.stillServes();
  });

  it('a response that never ends: the client aborts and the proxy closes the upstream', async () => {
    endlessClosed = false;
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: lw.proxyPort, path: 'http://enc.test/endless', agent: false, headers: { host: 'enc.test' } }, (res) => {
        let got = 0;
        res.on('data', (c: Buffer) => {
          got += c.length;
          if (got > 2 * 1024 * 1024) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', () => undefined);
      req.end();
    });
    await until(() => endlessClosed, 3000, 'the origin to see its response closed');
    const f = await flowFor('enc.test', '/endless');
    expect(f.error).toBe('LW_CLIENT_ABORT');
    await lw.stillServes();
  });
});

describe('the data dir stays clean', () => {
  it('no file was written outside the data dir layout', async () => {
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(lw.dataDir).sort()).toEqual(expect.arrayContaining(['ca', 'leakwatch.db']));
    for (const name of readdirSync(lw.dataDir)) expect(name).toMatch(/^(ca|leakwatch\.db(-wal|-shm)?|dashboard-token|running\.json|redact\.key|\.http-mitm-proxy-unused)$/);
    writeFileSync(join(tempDir(), 'marker'), '');
  });
});
