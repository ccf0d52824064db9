/**
 * STUN with a real client: headless Chromium gathers ICE with stun:stun.l.google.com:19302 and
 * the sensor on 127.0.0.1 records the Binding request, attributed to stun.l.google.com because
 * our DNS server answered that name for this client (dig asks it first, as the phone's resolver
 * would).
 *
 * Found with Chromium 156: WebRTC resolves the STUN host as the fully-qualified
 * "stun.l.google.com." (trailing dot), so `--host-resolver-rules=MAP stun.l.google.com 127.0.0.1`
 * alone does NOT apply (ICE reports error 701 "STUN host lookup received error"); a rule for
 * "stun.l.google.com." (or a wildcard) does. Chromium's request is the bare 20-byte Binding request.
 */
import { existsSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exchange } from '../../core/exchange.js';
import { silentLogger } from '../../core/log.js';
import { createRecentAnswers } from '../../proxy/dns/recent-answers.js';
import { ruleCoverage, startDnsServer, type DnsServer } from '../../proxy/dns/server.js';
import { startStunSensor, type StunSensor } from '../../proxy/stun/sensor.js';
import { dig, startStandIn, tinyRuleset, type StandIn } from '../dns/helpers.js';

const CHROMIUM = '/usr/bin/chromium';

/** 19302 when free (the real port), else one the system picks. */
async function stunPort(): Promise<number> {
  const s = createSocket('udp4');
  const ok = await new Promise<boolean>((res) => {
    s.once('error', () => res(false));
    s.bind(19302, '127.0.0.1', () => res(true));
  });
  await new Promise<void>((res) => (ok ? s.close(() => res()) : res()));
  return ok ? 19302 : 0;
}

interface Gathered {
  candidates: string[];
  errors: string[];
  state: string;
}

describe.skipIf(!existsSync(CHROMIUM))('STUN sensor with headless Chromium', () => {
  const recorded: Exchange[] = [];
  const recentAnswers = createRecentAnswers();
  let standIn: StandIn;
  let dns: DnsServer;
  let sensor: StunSensor;

  beforeAll(async () => {
    standIn = await startStandIn();
    dns = await startDnsServer({
      host: '127.0.0.1', port: 0, upstream: { host: '127.0.0.1', port: standIn.port }, interceptAddress: { v4: '127.0.0.1' },
      coversName: ruleCoverage(tinyRuleset(), 'observe'), recentAnswers, nextId: () => 1, onExchange: () => undefined, log: silentLogger,
    });
    sensor = await startStunSensor({
      host: '127.0.0.1', ports: [await stunPort()], respond: () => true, recentAnswers, nextId: () => recorded.length + 1,
      onExchange: (ex) => void recorded.push(ex), log: silentLogger,
    });
  });

  afterAll(async () => {
    await sensor?.close();
    await dns?.close();
    await standIn?.close();
  });

  it('records the Binding request Chromium sends for stun:stun.l.google.com', async () => {
    // the client's resolver asks leakwatch, which answers with its own address and remembers it
    expect((await dig(dns.port, 'stun.l.google.com', 'A')).answers).toEqual(['A 127.0.0.1']);
    const port = sensor.ports[0]!;
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--host-resolver-rules=MAP stun.l.google.com 127.0.0.1,MAP stun.l.google.com. 127.0.0.1',
        '--allow-loopback-in-peer-connection',
      ],
    });
    let gathered: Gathered;
    try {
      const page = await browser.newPage();
      await page.setContent('<!doctype html><title>call</title>');
      gathered = await page.evaluate(async (url): Promise<Gathered> => {
        const pc = new RTCPeerConnection({ iceServers: [{ urls: url }] });
        pc.createDataChannel('call');
        const candidates: string[] = [];
        const errors: string[] = [];
        pc.onicecandidate = (e) => void (e.candidate && candidates.push(e.candidate.candidate));
        pc.onicecandidateerror = (e) => void errors.push(`${e.errorCode} ${e.errorText}`);
        await pc.setLocalDescription(await pc.createOffer());
        await new Promise<void>((done) => {
          const t = setTimeout(done, 10_000);
          const check = (): void => void (pc.iceGatheringState === 'complete' && (clearTimeout(t), done()));
          pc.onicegatheringstatechange = check;
          check();
        });
        const state = pc.iceGatheringState;
        pc.close();
        return { candidates, errors, state };
      }, `stun:stun.l.google.com:${port}`);
    } finally {
      await browser.close();
    }
    expect(gathered.state).toBe('complete');
    expect(recorded.length).toBeGreaterThanOrEqual(1);
    expect(recorded[0]).toMatchObject({
      kind: 'stun', listener: 'stun', client: { address: '127.0.0.1' },
      request: { method: 'BINDING', url: `stun://stun.l.google.com:${port}`, host: 'stun.l.google.com', scheme: 'stun' },
      meta: { meantFor: 'stun.l.google.com', answered: true, type: 'binding request', software: null, username: null },
    });
    // our answer made Chromium report a server-reflexive candidate: the leak a real STUN server sees
    expect(gathered.candidates.some((c) => / typ srflx /.test(c))).toBe(true);
  });
});
