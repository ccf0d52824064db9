/**
 * Optional reference target: bare http-mitm-proxy 1.1.0 with keepAlive (the library leakwatch is
 * built on, with nothing on top), as in the perf baseline. Run as a child:
 *   node dist/bench/hmp-proxy.js PORT CA_DIR ORIGIN_CA
 * Prints "ready" when it listens. Upstream names are dialled on loopback via the agent's lookup.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { Proxy } from 'http-mitm-proxy';
import { loopbackLookup } from './loadgen.js';

const [port, caDir, originCa] = process.argv.slice(2);
if (!port || !caDir || !originCa) throw new Error('usage: hmp-proxy.js PORT CA_DIR ORIGIN_CA');
const proxy = new Proxy();
proxy.onError(() => {}); // errors are counted by the load generator; stay quiet here
proxy.listen(
  {
    port: Number(port),
    host: '127.0.0.1',
    sslCaDir: caDir,
    keepAlive: true,
    httpsAgent: new Agent({ keepAlive: true, ca: readFileSync(originCa), lookup: loopbackLookup }),
  },
  (err?: unknown) => {
    if (err) throw err;
    process.stdout.write('ready\n');
  },
);
process.on('SIGTERM', () => process.exit(0));
