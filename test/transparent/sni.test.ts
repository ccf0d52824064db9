/** The ClientHello reader on real ClientHellos from Node's TLS client, split every way. */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { readClientHello } from '../../proxy/transparent-sni.js';

/** The first bytes a real TLS client sends (its ClientHello), captured on a raw TCP server. */
async function captureHello(servername: string | undefined): Promise<Buffer> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as AddressInfo).port;
  const got = new Promise<Buffer>((resolve) => {
    server.once('connection', (s: Socket) => {
      s.once('data', (d: Buffer) => {
        resolve(d);
        s.destroy();
      });
    });
  });
  const client = tls.connect({ host: '127.0.0.1', port, ...(servername ? { servername } : {}), rejectUnauthorized: false });
  client.on('error', () => undefined);
  const hello = await got;
  client.destroy();
  server.close();
  return hello;
}

describe('readClientHello', () => {
  it('reads the SNI of a real ClientHello, whole or fed byte by byte', async () => {
    const hello = await captureHello('vector.im');
    expect(readClientHello(hello)).toEqual({ state: 'ok', sni: 'vector.im' });
    for (let n = 0; n < hello.length; n++) expect(readClientHello(hello.subarray(0, n)).state).toBe('more');
  });

  it('reads the SNI when the hello is split over several TLS records', async () => {
    const hello = await captureHello('scalar.vector.im');
    const body = hello.subarray(5);
    const rec = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, b.length >> 8, b.length & 0xff]), b]);
    const split = Buffer.concat([rec(body.subarray(0, 7)), rec(body.subarray(7, 100)), rec(body.subarray(100))]);
    expect(readClientHello(split)).toEqual({ state: 'ok', sni: 'scalar.vector.im' });
  });

  it('no SNI (IP literal), not TLS, and garbage are told apart and never throw', async () => {
    expect(readClientHello(await captureHello(undefined))).toEqual({ state: 'ok', sni: null });
    expect(readClientHello(Buffer.from('GET / HTTP/1.1\r\n'))).toMatchObject({ state: 'bad', reason: 'not a TLS handshake' });
    expect(readClientHello(Buffer.from([0x16, 3, 1, 0, 4, 2, 0, 0, 0]))).toMatchObject({ state: 'bad' });
    expect(readClientHello(Buffer.from([0x16, 3, 1, 0, 6, 1, 0, 0, 2, 3, 3]))).toMatchObject({ state: 'bad', reason: 'truncated ClientHello' });
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.from(Array.from({ length: 5 + (i % 300) }, (_, j) => (j === 0 ? 0x16 : (i * 31 + j * 17) & 0xff)));
      expect(() => readClientHello(junk)).not.toThrow();
    }
  });
});
