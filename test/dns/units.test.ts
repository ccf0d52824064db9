import fc from 'fast-check';
import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { ruleCoverage } from '../../proxy/dns/coverage.js';
import { createRecentAnswers } from '../../proxy/dns/recent-answers.js';
import { isOwnAddress } from '../../proxy/dns/self.js';
import { fitUdp, parseQuery, responseFacts, synthesize } from '../../proxy/dns/wire.js';
import { tinyRuleset } from './helpers.js';

const query = (name: string, type: 'A' | 'AAAA' | 'TXT' = 'A'): Buffer =>
  dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });

describe('ruleCoverage', () => {
  it('covers exact and suffix hosts, never `*`; blocks only whole-host block rules in enforce', () => {
    const observe = ruleCoverage(tinyRuleset(), 'observe');
    expect(observe('vector.im')).toEqual({ ruleId: 'vector-is', block: false });
    expect(observe('a.b.vector.im.')).toEqual({ ruleId: 'vector-is', block: false });
    expect(observe('tracker.example')).toEqual({ ruleId: 'tracker', block: false });
    expect(observe('example.org')).toBeNull();
    const enforce = ruleCoverage(tinyRuleset(), 'enforce');
    expect(enforce('TRACKER.example')).toEqual({ ruleId: 'tracker', block: true });
    expect(enforce('partial.example')).toEqual({ ruleId: 'lookup-only', block: false });
    const overridden = ruleCoverage(tinyRuleset(), 'enforce', (r) => (r.id === 'tracker' ? 'log' : r.action));
    expect(overridden('tracker.example')).toEqual({ ruleId: 'tracker', block: false });
  });
});

describe('recent answers', () => {
  it('keeps the newest name per client, bounded, expiring, dual-stack aware', () => {
    const ra = createRecentAnswers({ maxClients: 2, perClient: 2, maxAgeMs: 1000 });
    ra.record('::ffff:10.0.0.5', { name: 'a.example', ruleId: 'r', address: '192.0.2.1', at: 0 });
    ra.record('10.0.0.5', { name: 'b.example', ruleId: 'r', address: '192.0.2.1', at: 10 });
    expect(ra.latest('10.0.0.5', { now: 20 })?.name).toBe('b.example');
    expect(ra.latest('10.0.0.5', { now: 2000 })).toBeNull();
    ra.record('10.0.0.6', { name: 'c', ruleId: null, address: 'x', at: 0 });
    ra.record('10.0.0.7', { name: 'd', ruleId: null, address: 'x', at: 0 });
    expect(ra.size).toBe(2);
    expect(ra.latest('10.0.0.5', { now: 20 })).toBeNull();
  });
});

describe('DNS wire helpers', () => {
  it('parseQuery never throws and rejects responses and multi-question packets', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      const q = parseQuery(Buffer.from(b));
      expect(q === null || typeof q.name === 'string').toBe(true);
    }), { numRuns: 3000 });
    expect(parseQuery(query('vector.im'))).toMatchObject({ id: 4242, name: 'vector.im', qtype: 'A', qclass: 'IN', udpLimit: 512 });
    expect(parseQuery(dnsPacket.encode({ type: 'response', id: 1, questions: [{ type: 'A', name: 'x' }] }))).toBeNull();
    expect(parseQuery(dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'x' }, { type: 'A', name: 'y' }] }))).toBeNull();
    expect(parseQuery(dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'UNKNOWN_65' as 'A', name: 'x' }] }))?.qtype).toBe('HTTPS');
  });

  it('truncates an answer too big for UDP and reads TTLs (RFC 2308 for negative answers)', () => {
    const q = parseQuery(query('big.example'))!;
    const answers = Array.from({ length: 40 }, (_, i) => ({ type: 'A' as const, name: 'big.example', ttl: 100 + i, data: `10.0.0.${i}` }));
    const full = synthesize(q, 'NOERROR', answers);
    expect(full.length).toBeGreaterThan(512);
    const cut = fitUdp(q, full);
    expect(dnsPacket.decode(cut)).toMatchObject({ id: 4242, flag_tc: true, answers: [] });
    expect(responseFacts(full)).toMatchObject({ rcode: 'NOERROR', ttl: 100 });
    const nx = dnsPacket.encode({ type: 'response', id: 1, flags: 3, questions: [{ type: 'A', name: 'x' }],
      authorities: [{ type: 'SOA', name: 'x', ttl: 900, data: { mname: 'a', rname: 'b', minimum: 30 } }] });
    expect(responseFacts(nx)).toEqual({ rcode: 'NXDOMAIN', answer: '', ttl: 30 });
    expect(responseFacts(Buffer.from('junk'))).toBeNull();
  });

  it('knows its own addresses for the loop check', () => {
    expect(isOwnAddress('127.0.0.1', '127.0.0.1')).toBe(true);
    expect(isOwnAddress('0.0.0.0', '127.0.0.53')).toBe(true);
    expect(isOwnAddress('127.0.0.1', '192.0.2.53')).toBe(false);
  });
});
