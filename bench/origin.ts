/**
 * The bench origin, run as its own process (`node dist/bench/origin.js CERT KEY`) so its CPU is
 * not shared with the load generator's event loop. HTTPS with keep-alive; any SNI is answered with
 * the one wildcard cert. Prints one JSON line {"port":N} once it listens on 127.0.0.1.
 *   /small -> ~300-byte JSON (with an e-mail and a device id, so leakwatch's extractors have work)
 *   /big   -> 100 KB (102 400 bytes) octet stream
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';

export const SMALL_BODY = Buffer.from(
  JSON.stringify({
    id: 123456,
    user: 'alice@example.com',
    device: 'a1b2c3d4e5f60718',
    ts: 1732874400000,
    items: [
      { sku: 'SKU-0001', qty: 1, price: 19.99 },
      { sku: 'SKU-0002', qty: 2, price: 5.5 },
    ],
    geo: { lat: 52.52, lon: 13.405, city: 'Berlin' },
    flags: ['a', 'b', 'c'],
    note: 'x'.repeat(60),
  }),
);
export const BIG_BODY = Buffer.alloc(100 * 1024, 'abcdefghijklmnopqrstuvwxyz0123456789');

function main(): void {
  const [certFile, keyFile] = process.argv.slice(2);
  if (!certFile || !keyFile) throw new Error('usage: origin.js CERT KEY');
  const server = createServer(
    { cert: readFileSync(certFile), key: readFileSync(keyFile), keepAliveTimeout: 120_000 },
    (req, res) => {
      const big = req.url?.startsWith('/big') === true;
      const body = big ? BIG_BODY : SMALL_BODY;
      res.writeHead(200, {
        'content-type': big ? 'application/octet-stream' : 'application/json',
        'content-length': body.length,
      });
      res.end(body);
    },
  );
  // Long windows and many idle pooled sockets must not be cut by Node's defaults.
  server.headersTimeout = 130_000;
  server.requestTimeout = 0;
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    process.stdout.write(JSON.stringify({ port, small: SMALL_BODY.length, big: BIG_BODY.length }) + '\n');
  });
  process.on('SIGTERM', () => process.exit(0));
}

// Only run as a program; run.ts imports the body sizes from this module.
if (process.argv[1]?.endsWith('origin.js')) main();
