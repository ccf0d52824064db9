// Child process for crash.test.ts: feeds the recorder synthetic audited exchanges at a steady
// rate and prints progress lines ("p <enqueued> <written> <queued>") until it is killed.
// On SIGTERM it closes the recorder (the CLI's shutdown path) and prints "closed <enq> <written>".
import { silentLogger } from '../../dist/core/log.js';
import { openStore } from '../../dist/store/db.js';
import { createRecorder } from '../../dist/store/recorder.js';

const [file, perTickArg] = process.argv.slice(2);
const perTick = Number(perTickArg ?? 10);
const store = openStore(file);
const rec = createRecorder(store, { sessionId: store.openSession('crash').id, flushMs: 100, storeBodies: 'leaks', redact: false,
  redactKey: Buffer.alloc(32, 1), log: silentLogger });
let id = store.maxExchangeId();
let enq = 0;
const body = Buffer.from('{"threepids":[{"medium":"email","address":"crash@example.org"}]}');
const make = (n) => ({
  exchange: { id: n, kind: 'http', listener: 'proxy', startedAt: Date.now(), endedAt: Date.now() + 3, client: { address: '10.0.0.2', port: 5000 },
    request: { method: 'POST', url: `https://vector.im/_matrix/identity/v2/lookup?n=${n}`, scheme: 'https', host: 'vector.im', port: 443,
      path: `/_matrix/identity/v2/lookup?n=${n}`, httpVersion: '1.1', headers: [['Host', 'vector.im']], body: { bytes: body, size: body.length, truncated: false } },
    response: { status: 200, statusMessage: 'OK', headers: [], body: { bytes: Buffer.from('{}'), size: 2, truncated: false } } },
  audit: { classification: { ruleId: 'vector.im/lookup', party: 'vector.im', category: 'identity-server', severity: 'high', action: 'log' },
    firstParty: false, severity: 'high', verdict: 'allow', notes: [],
    findings: [{ kind: 'email', value: 'crash@example.org', where: 'request.body.threepids[0].address', method: 'structural' },
      { kind: 'mxid', value: `@u${n % 10}:example.org`, where: 'request.body.x', method: 'structural' },
      { kind: 'device_id', value: 'DEVICE', where: 'request.header.x', method: 'structural' }] },
});
const feed = setInterval(() => {
  for (let k = 0; k < perTick; k++) {
    rec.stage.run(make(++id));
    enq++;
  }
}, 5);
const progress = setInterval(() => {
  const s = rec.stats();
  process.stdout.write(`p ${enq} ${s.written} ${s.queued}\n`);
}, 10);
process.on('SIGTERM', () => {
  clearInterval(feed);
  clearInterval(progress);
  void rec.close().then(() => {
    store.close();
    process.stdout.write(`closed ${enq} ${rec.stats().written}\n`);
    process.exit(0);
  });
});
