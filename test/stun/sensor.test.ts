import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { Exchange } from '../../core/exchange.js';
import { silentLogger } from '../../core/log.js';
import { createRecentAnswers } from '../../proxy/dns/recent-answers.js';
import { parseStun } from '../../proxy/stun/parse.js';
import { startStunSensor, type StunSensor } from '../../proxy/stun/sensor.js';

// The 20-byte Binding request a WebRTC client sends (RFC 8489 §6)
const REQUEST = Buffer.from('000100002112a442b7e7a701bc34d686fa87dfae', 'hex');

let sensor: StunSensor | undefined;
let client: Socket | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await sensor?.close();
  sensor = undefined;
});

async function udpClient(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((res) => s.bind(0, '127.0.0.1', res));
  return s;
}

/** Send and wait up to `ms` for one reply (null = none). */
function ask(s: Socket, port: number, msg: Buffer, ms = 300): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const t = setTimeout(() => { s.off('message', on); resolve(null); }, ms);
    const on = (m: Buffer): void => { clearTimeout(t); s.off('message', on); resolve(m); };
    s.on('message', on);
    s.send(msg, port, '127.0.0.1');
  });
}

describe('STUN sensor with a real UDP client', () => {
  it('answers a Binding request with the client\'s own address and records it', async () => {
    const recorded: Exchange[] = [];
    const recentAnswers = createRecentAnswers();
    recentAnswers.record('127.0.0.1', { name: 'turn.matrix.org', ruleId: 'stun-turn', address: '127.0.0.1', at: Date.now() });
    sensor = await startStunSensor({
      host: '127.0.0.1', ports: [0, 0], respond: () => true, recentAnswers, nextId: () => 7, onExchange: (ex) => void recorded.push(ex), log: silentLogger,
    });
    client = await udpClient();
    const reply = await ask(client, sensor.ports[1]!, REQUEST);
    expect(reply).not.toBeNull();
    const r = parseStun(reply!);
    if (!r.ok) throw new Error(r.reason);
    expect(r.message).toMatchObject({ type: 0x0101, transactionIdHex: 'b7e7a701bc34d686fa87dfae', software: 'leakwatch', fingerprint: 'valid' });
    expect(r.message.xorMappedAddress).toEqual({ family: 'IPv4', address: '127.0.0.1', port: client.address().port });
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({
      id: 7, kind: 'stun', listener: 'stun', client: { address: '127.0.0.1', port: client.address().port },
      request: { method: 'BINDING', url: `stun://turn.matrix.org:${sensor.ports[1]}`, host: 'turn.matrix.org', scheme: 'stun', path: '/' },
      meta: { transactionId: 'b7e7a701bc34d686fa87dfae', software: null, username: null, type: 'binding request', meantFor: 'turn.matrix.org', answered: true },
    });
  });

  it('respond=false records but stays silent; non-STUN is dropped and counted; floods are rate-limited', async () => {
    const recorded: Exchange[] = [];
    sensor = await startStunSensor({
      host: '127.0.0.1', ports: [0], respond: () => false, nextId: () => 1, onExchange: (ex) => void recorded.push(ex), log: silentLogger,
      recordBurst: 3, recordPerSecond: 0.001,
    });
    const port = sensor.ports[0]!;
    client = await udpClient();
    expect(await ask(client, port, REQUEST, 200)).toBeNull();
    expect(recorded[0]).toMatchObject({ request: { host: '127.0.0.1', url: `stun://127.0.0.1:${port}` }, meta: { answered: false, meantFor: null } });
    expect(await ask(client, port, Buffer.from('GET / HTTP/1.1\r\n\r\n'), 100)).toBeNull();
    for (let i = 0; i < 10; i++) client.send(REQUEST, port, '127.0.0.1');
    await new Promise((res) => setTimeout(res, 150));
    const s = sensor.stats();
    expect(s).toMatchObject({ nonStun: 1, requests: 11, answered: 0, recorded: 3, suppressed: 8 });
    expect(recorded).toHaveLength(3);
  });
});
