/**
 * The gate decides once and the exchange carries that decision: the audit reuses the gate's rule
 * instead of matching again. The pack lists a response-dependent rule before a request rule on the
 * same host and path; the gate (no response yet) can only pick the request rule, while a second
 * match after the response would pick the response rule and pair it with the gate's verdict.
 * Driven through the real proxy, pipeline, SQLite store and dashboard API with curl.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { startLw, type Lw } from './harness.js';

const run = promisify(execFile);
const PACK = fileURLToPath(new URL('./fixtures/decision-pack.yaml', import.meta.url));

let origin: Origin;
let lw: Lw;

beforeAll(async () => {
  origin = await startOrigin({
    routes: {
      '*': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
        res.end('{}');
      },
    },
  });
}, 30_000);

afterAll(async () => {
  await lw?.close();
  await origin?.close();
});

const curl = (url: string): Promise<unknown> => run('/usr/bin/curl', ['--silent', '--show-error', '--proxy', lw.running.proxyUrl, url]);

describe.each(['observe', 'enforce'] as const)('one decision per exchange (%s mode)', (mode) => {
  beforeAll(async () => {
    await lw?.close();
    // In enforce mode the request rule strips (the request is still forwarded, so a response comes back).
    lw = await startLw({ mode, rules: [PACK], ...(mode === 'enforce' ? { action: ['test.shape.collect=strip'] } : {}) }, ['shape.test'], origin.port);
  }, 30_000);

  it('the stored and shown rule is the one whose verdict was applied', async () => {
    await curl('http://shape.test/collect?uid=abc123');
    const verdict = mode === 'observe' ? 'would-block' : 'strip';
    const f = await lw.flow('shape.test', '/collect');
    expect(f).toMatchObject({ rule: 'test.shape.collect', verdict, category: 'analytics', status: 200 });
    // The stored row, as the detail view reads it back from SQLite.
    const d = await lw.dash.flow(f.id);
    expect(d.flow).toMatchObject({ rule: 'test.shape.collect', verdict, category: 'analytics' });
    // The gate's rule also drove extraction: its query extractor found the tracking id.
    expect(d.flow.leaks.map((x) => [x.kind, x.value])).toContainEqual(['tracking_id', 'abc123']);
  });

  it('without a gate decision the response still adds its rule', async () => {
    await curl('http://shape.test/status');
    const f = await lw.flow('shape.test', '/status');
    expect(f).toMatchObject({ rule: 'test.shape.empty-answer', verdict: 'allow', category: 'phone-home' });
  });
});
