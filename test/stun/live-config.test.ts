/**
 * The STUN sensor follows the live configuration: in enforce mode, whether it answers Binding
 * requests changes at once with a rule reload (SIGHUP) and with a dashboard override, without a
 * restart. Real process, real UDP client.
 */
import { createSocket } from 'node:dgram';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from '../helpers/connect-client.js';
import { spawnLeakwatch, tempDir, until, type Leakwatch } from '../hostile/harness.js';

const BINDING = Buffer.from('000100002112a442b7e7a701bc34d686fa87dfae', 'hex');

const pack = (action: 'log' | 'block'): string => `pack: stun-live
version: 1
description: one STUN rule whose action the test flips
rules:
  - id: test.stun
    party: a STUN server stand-in
    category: stun-turn
    hosts: ["stun.test"]
    severity: medium
    why: The STUN server learns your address.
    cite: test
    remediation: Run your own TURN server.
    action: ${action}
`;

let lw: Leakwatch;
let packFile: string;
let stunPort = 0;

/** True when a Binding request gets a reply within `waitMs`. */
function answered(waitMs = 800): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const done = (v: boolean): void => {
      clearTimeout(t);
      s.close();
      resolve(v);
    };
    const t = setTimeout(() => done(false), waitMs);
    s.on('message', () => done(true));
    s.bind(0, '127.0.0.1', () => s.send(BINDING, stunPort, '127.0.0.1'));
  });
}

function dashboard(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return request(http, {
    host: '127.0.0.1', port: lw.dashboardPort, path, method, agent: false,
    headers: { authorization: `Bearer ${lw.token}`, ...(data ? { 'content-type': 'application/json' } : {}) },
  }, data).then((r) => ({ status: r.status, json: r.body.length > 0 ? JSON.parse(r.body.toString()) : null }));
}

beforeAll(async () => {
  packFile = join(tempDir('lw-stun-live-'), 'pack.yaml');
  writeFileSync(packFile, pack('log'));
  lw = await spawnLeakwatch({ args: ['--mode', 'enforce', '--no-builtin-rules', '--rules', packFile, '--stun-port', '0'] });
  stunPort = Number(/STUN sensor :(\d+)/.exec(lw.stdout())![1]);
}, 30_000);

afterAll(async () => {
  await lw?.stop();
});

describe('STUN sensor and the live rules', () => {
  it('answers while the STUN rule only logs', async () => {
    expect(await answered()).toBe(true);
  });

  it('falls silent after a reload makes the rule block, and answers again after the next', async () => {
    writeFileSync(packFile, pack('block'));
    lw.proc.kill('SIGHUP');
    await until(async () => !(await answered(400)), 5000, 'silence after the reload');
    writeFileSync(packFile, pack('log'));
    lw.proc.kill('SIGHUP');
    await until(() => answered(400), 5000, 'answers after the second reload');
  });

  it('follows a dashboard override of the rule action, and its removal', async () => {
    const created = await dashboard('POST', '/api/overrides', { kind: 'rule-action', ruleId: 'test.stun', action: 'block' });
    expect(created.status).toBe(201);
    expect(await answered()).toBe(false);
    const id = (created.json as { override: { id: string } }).override.id;
    expect((await dashboard('DELETE', `/api/overrides/${id}`)).status).toBe(204);
    expect(await answered()).toBe(true);
  });
});
