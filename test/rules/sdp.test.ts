import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCandidateLine, sdpAddresses } from '../../rules/sdp.js';

const SRFLX = 'candidate:842163049 1 udp 1677729535 93.184.216.34 54321 typ srflx raddr 192.168.1.20 rport 49152 generation 0';
const MDNS = 'candidate:1467250027 1 udp 2122260223 3c9b2f2e-1d2a-4b8e-9e5f-2f8e3f1d7a10.local 49152 typ host generation 0';
const OFFER = [
  'v=0',
  'o=- 658458 2 IN IP4 127.0.0.1',
  'c=IN IP4 93.184.216.34',
  'a=candidate:1 1 udp 2122260223 10.0.0.5 49152 typ host',
  'a=candidate:2 1 udp 1677729535 93.184.216.34 54321 typ srflx raddr 10.0.0.5 rport 49152',
  'a=candidate:3 1 udp 41885439 198.51.100.9 3478 typ relay raddr 93.184.216.34 rport 54321',
  'a=candidate:4 1 udp 2122262783 2a00:1450:4001:82a::200e 49153 typ host',
].join('\r\n');

describe('sdp', () => {
  it('parses a trickle candidate line', () => {
    expect(parseCandidateLine(SRFLX)).toMatchObject({ address: '93.184.216.34', port: 54321, type: 'srflx', relatedAddress: '192.168.1.20' });
    expect(parseCandidateLine('a=' + SRFLX)?.type).toBe('srflx');
    expect(parseCandidateLine('nonsense')).toBeNull();
  });
  it('skips mDNS names and 0.0.0.0', () => {
    expect(sdpAddresses(MDNS)).toEqual([]);
    expect(sdpAddresses(SRFLX.replace('raddr 192.168.1.20', 'raddr 0.0.0.0'))).toEqual([{ address: '93.184.216.34', source: 'srflx' }]);
  });
  it('lists host (private), srflx, relay, raddr and c= addresses of an offer', () => {
    expect(sdpAddresses(OFFER).map((a) => `${a.address}#${a.source}`)).toEqual([
      '93.184.216.34#c',
      '10.0.0.5#host',
      '93.184.216.34#srflx',
      '10.0.0.5#raddr',
      '198.51.100.9#relay',
      '93.184.216.34#raddr',
      '2a00:1450:4001:82a::200e#host',
    ]);
  });
  it('never throws', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        sdpAddresses(s);
        parseCandidateLine(s);
      }),
      { numRuns: 500 },
    );
    const frag = fc.constantFrom('a=candidate:', 'candidate:', ' typ ', 'host', 'srflx', ' raddr ', '1.2.3.4', '::1', 'c=IN IP4 ', '\r\n', ' ', '9');
    fc.assert(
      fc.property(fc.array(frag, { maxLength: 40 }), (a) => {
        sdpAddresses(a.join(''));
      }),
      { numRuns: 500 },
    );
  });
});
