/**
 * Main-thread cost of our per-request work, without the network: the request gate (observe mode,
 * no matching rule), the audit stage and the dashboard hub (flow item + one JSON frame per batch),
 * over the exchange `profile-load --body small` produces. Prints CPU µs per exchange (user+sys,
 * process.cpuUsage) for each part and in total; run it a few times and take the median.
 *
 *   node dist/bench/rules-micro.js [N=100000] [ROUNDS=5]   (median of the rounds per part)
 */
import type { Exchange } from '../core/exchange.js';
import type { RequestHead } from '../core/gate.js';
import { HoldQueue } from '../core/hold-queue.js';
import type { PipelineItem } from '../core/pipeline.js';
import { StreamHub } from '../dashboard/hub.js';
import { auditExchange, type AuditContext } from '../rules/audit.js';
import { firstPartySet } from '../rules/classify.js';
import { EMPTY_OVERLAY } from '../rules/decide.js';
import { createEnforcementGate } from '../rules/enforce-gate.js';
import { knownValuesFromFlags } from '../rules/identities.js';
import { loadRuleset } from '../rules/load.js';
import { SMALL_BODY } from './origin.js';

const N = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const ruleset = loadRuleset({ builtin: true, extra: [] });
const known = knownValuesFromFlags(['email=alice@example.com', 'device_id=a1b2c3d4e5f60718'], []);
const firstParty = firstPartySet([]);
const host = 'h1.bench.test:44321';
const path = '/small?uid=alice@example.com&did=a1b2c3d4e5f60718&ev=page_view';
const headers = [
  ['host', host],
  ['connection', 'keep-alive'],
] as const;
const head: RequestHead = {
  method: 'GET',
  url: `https://${host}${path}`,
  scheme: 'https',
  host: 'h1.bench.test',
  port: 44321,
  path,
  headers,
  client: { address: '::ffff:127.0.0.1', port: 50000 },
};
const exchangeOf = (id: number): Exchange => ({
  id,
  kind: 'http',
  listener: 'proxy',
  startedAt: 1732874400000 + id,
  endedAt: 1732874400003 + id,
  client: head.client,
  request: { method: 'GET', url: head.url, scheme: 'https', host: 'h1.bench.test', port: 44321, path, httpVersion: '1.1', headers, body: { bytes: Buffer.alloc(0), size: 0, truncated: false } },
  response: {
    status: 200,
    statusMessage: 'OK',
    headers: [
      ['content-type', 'application/json'],
      ['content-length', String(SMALL_BODY.length)],
    ],
    body: { bytes: SMALL_BODY, size: SMALL_BODY.length, truncated: false },
  },
});

const gate = createEnforcementGate({
  state: () => ({ ruleset, firstParty, mode: 'observe', overlay: EMPTY_OVERLAY, known }),
  holds: new HoldQueue({ timeoutMs: 1000 }),
  onLasting: () => undefined,
});
const auditCtx: AuditContext = { ruleset, firstParty, known, mode: 'observe', actionOf: (r) => r.action };
const hub = new StreamHub({ batchMs: 1_000_000, ringSize: 2000 });
let frameBytes = 0;
hub.subscribe((_items, frame) => void (frameBytes += frame.length));

function cpu(fn: () => void): number {
  const t = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / N;
}

const exchanges = Array.from({ length: N }, (_, i) => exchangeOf(i + 1));
const items: PipelineItem[] = exchanges.map((exchange) => ({ exchange }));
// Warm-up (JIT, memo caches), then measure each part.
for (let i = 0; i < 20_000; i++) {
  gate.decide(head);
  auditExchange(exchanges[i % N]!, auditCtx);
}
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
const gs: number[] = [];
const as: number[] = [];
const hs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  gs.push(
    cpu(() => {
      for (let i = 0; i < N; i++) gate.decide(head);
    }),
  );
  as.push(
    cpu(() => {
      for (const it of items) it.audit = auditExchange(it.exchange, auditCtx);
    }),
  );
  // The hub flushes every 100 ms; at ~2,000 req/s that is batches of ~200 items.
  hs.push(
    cpu(() => {
      for (let i = 0; i < N; i++) {
        hub.publish(items[i]!);
        if (i % 200 === 199) hub.flushNow();
      }
      hub.flushNow();
    }),
  );
}
hub.close();
const [g, a, h] = [median(gs), median(as), median(hs)];
const f = items[0]!.audit!.findings.map((x) => `${x.kind}@${x.where}`).join(', ');
console.log(
  `N=${N}×${ROUNDS} (median) gate ${g.toFixed(2)} µs  audit ${a.toFixed(2)} µs  hub ${h.toFixed(2)} µs  total ${(g + a + h).toFixed(2)} µs/exchange` +
    `  (findings: ${f}; frame bytes/item ${Math.round(frameBytes / N / ROUNDS)})`,
);
