/**
 * Regression guard for extraction cost (the pipeline runs it for every exchange, up to ~5,000/s).
 * Bounds are ~10x the figures measured on the 2-vCPU dev VM (CPU time, not wall time, because the
 * machine is shared), so only a real regression trips them. Each call gets a different exchange
 * (ids, tokens, URLs vary as between a client's requests): the detectors remember short texts, and
 * timing one exchange over and over would measure that memo, not extraction.
 */
import { describe, expect, it } from 'vitest';
import { extractFindings } from '../../rules/extract.js';
import { buildKnownValueIndex } from '../../rules/known-values.js';
import { ex, match } from '../fixtures/bodies/exchange.js';

/** More distinct exchanges than the detectors' memo holds texts, so a pass over them misses it. */
const POOL = 5000;

function medianCpuMicros(fn: (i: number) => void, n = 10_000): number {
  let k = 0;
  for (let i = 0; i < 1000; i++) fn(k++ % POOL);
  const per: number[] = [];
  for (let r = 0; r < 11; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n / 10; i++) fn(k++ % POOL);
    const c = process.cpuUsage(c0);
    per.push((c.user + c.system) / (n / 10));
  }
  return per.sort((a, b) => a - b)[5]!;
}

const known = buildKnownValueIndex([
  { kind: 'email', value: 'bob@example.com' },
  { kind: 'phone', value: '+447700900123' },
]);

describe('extraction cost', () => {
  it('(a) unmatched 300-byte JSON exchange to a third party', () => {
    const pool = Array.from({ length: POOL }, (_, i) => ex(`https://posthog.example.net/e/?ip=1&ver=1.x&_=${1719835200000 + i}`, {
      headers: [['Content-Type', 'application/json'], ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0'], ['Origin', 'https://chat.example.org'], ['Accept', '*/*']],
      body: {
        event: 'ViewRoom',
        properties: { distinct_id: `a224a75aecbae96b1447f39182a${i.toString(16).padStart(5, '0')}`, token: 'phc_Jzsm6DTm6V2705', $current_url: `Room #${i}`, appVersion: '1.11.70', appPlatform: 'Web Platform', $os: 'Linux', $browser: 'Firefox', $screen_height: 1080, $screen_width: 1920 },
        timestamp: new Date(1719835200000 + i * 1000).toISOString(),
      },
    }));
    expect(pool[0]!.request.body.bytes.length).toBeGreaterThan(290);
    expect(medianCpuMicros((i) => extractFindings(pool[i]!, null, { firstParty: false, known }))).toBeLessThan(300);
  });
  it('(b) IS v2 lookup with 3 addresses and 2 known identities', () => {
    const pool = Array.from({ length: POOL }, (_, i) => ex('https://vector.im/_matrix/identity/v2/lookup', {
      headers: [['Content-Type', 'application/json'], ['Authorization', `Bearer shVYHBl7yTJBXRWIhGWypH-bXPoz${i.toString(36).padStart(4, '0')}`], ['User-Agent', 'Mozilla/5.0 Firefox/126.0']],
      body: {
        addresses: ['LJwSazmv46n0hlMlsb_iYxI0_HXEqy_yj6Jm636cdT8', 'THSC4I-3Y3nLb_vqvxaZWXswZuQdugJ_WBrvK0pIy9Y', '8tKbIM8ECZCrzWaEDwSJrS5_l9pNMEEMYFGYNe1qx5M'],
        pepper: 'matrixrocks',
        algorithm: 'sha256',
      },
    }));
    const e = pool[0]!;
    const m = match([
      { from: 'json', path: 'addresses[*]', kind: 'contact_hash', part: 'request' },
      { from: 'header', name: 'user-agent', kind: 'user_agent', part: 'request' },
    ]);
    expect(extractFindings(e, m, { firstParty: false, known }).findings.filter((f) => f.method.startsWith('known-value'))).toHaveLength(2);
    expect(medianCpuMicros((i) => extractFindings(pool[i]!, m, { firstParty: false, known }))).toBeLessThan(400);
  });
});
