import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBindingSuccess, encodeStun, joinType, looksLikeStun, parseStun, splitType } from '../../proxy/stun/parse.js';

// A Binding exchange as captured from a WebRTC client: transaction id b7e7a701bc34d686fa87dfae, client 203.0.113.7:54321
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const TID = hex('b7e7a701bc34d686fa87dfae');
const REQUEST = hex('00 01 00 00 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae');
const REQUEST_FP = hex('00 01 00 08 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae 80 28 00 04 fd f6 ae 02');
const SUCCESS = hex(`01 01 00 14 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  00 20 00 08 00 01 f5 23 ea 12 d5 45 80 28 00 04 bc f5 8c 34`);

function ok(buf: Uint8Array) {
  const r = parseStun(buf);
  if (!r.ok) throw new Error(r.reason);
  return r.message;
}

describe('parseStun: RFC 5389/8489 test vectors', () => {
  it('decodes the 20-byte Binding request', () => {
    const m = ok(REQUEST);
    expect(m).toMatchObject({ type: 1, method: 1, methodName: 'binding', class: 'request', length: 0, transactionIdHex: TID.toString('hex') });
    expect(m.attributes).toEqual([]);
    expect(m.fingerprint).toBe('absent');
    expect(looksLikeStun(REQUEST)).toBe(true);
  });

  it('checks FINGERPRINT and rejects a wrong one', () => {
    expect(ok(REQUEST_FP).fingerprint).toBe('valid');
    const bad = Buffer.from(REQUEST_FP);
    bad[27] = bad[27]! ^ 1;
    expect(parseStun(bad)).toEqual({ ok: false, reason: 'FINGERPRINT mismatch' });
    const notLast = encodeStun({ type: 1, transactionId: TID, attributes: [], fingerprint: true });
    expect(notLast.equals(REQUEST_FP)).toBe(true);
  });

  it('decodes the Binding success response and its XOR-MAPPED-ADDRESS', () => {
    const m = ok(SUCCESS);
    expect(m).toMatchObject({ type: 0x0101, methodName: 'binding', class: 'success', fingerprint: 'valid' });
    expect(m.xorMappedAddress).toEqual({ family: 'IPv4', address: '203.0.113.7', port: 54321 });
    expect(m.attributes.map((a) => a.name)).toEqual(['XOR-MAPPED-ADDRESS', 'FINGERPRINT']);
  });

  it('encodeStun reproduces the success vector byte for byte', () => {
    const xor = SUCCESS.subarray(24, 32);
    expect(encodeStun({ type: 0x0101, transactionId: TID, attributes: [{ type: 0x20, value: xor }], fingerprint: true }).equals(SUCCESS)).toBe(true);
  });

  it('gives reasons instead of throwing', () => {
    expect(parseStun(Buffer.alloc(0))).toEqual({ ok: false, reason: 'shorter than the 20-byte header' });
    expect(parseStun(Buffer.concat([REQUEST, Buffer.alloc(4)])).ok).toBe(false);
    const noCookie = Buffer.from(REQUEST);
    noCookie[4] = 0;
    expect(parseStun(noCookie)).toMatchObject({ ok: false, reason: expect.stringContaining('magic cookie') });
    const overrun = Buffer.concat([REQUEST, hex('00 06 00 10 61 62 63 64')]);
    overrun.writeUInt16BE(8, 2);
    expect(parseStun(overrun)).toMatchObject({ ok: false, reason: expect.stringContaining('overruns') });
  });

  it('maps type bits to method and class (§5)', () => {
    expect(splitType(0x0111)).toEqual({ method: 1, cls: 3 });
    expect(splitType(0x0003)).toEqual({ method: 3, cls: 0 });
    expect(joinType(1, 1)).toBe(0x0011);
    for (let t = 0; t < 0x4000; t += 7) expect(joinType(splitType(t).method, splitType(t).cls)).toBe(t);
  });
});

describe('encode/parse', () => {
  it('Binding success for IPv4 and IPv6 round-trips, with SOFTWARE', () => {
    const v4 = ok(encodeBindingSuccess({ transactionId: TID }, '203.0.113.7', 54321)!);
    expect(v4.xorMappedAddress).toEqual({ family: 'IPv4', address: '203.0.113.7', port: 54321 });
    expect(v4.software).toBe('leakwatch');
    expect(v4.fingerprint).toBe('valid');
    const v6 = ok(encodeBindingSuccess({ transactionId: TID }, '2001:db8::1', 3478)!);
    expect(v6.xorMappedAddress).toEqual({ family: 'IPv6', address: '2001:db8::1', port: 3478 });
    const mapped = ok(encodeBindingSuccess({ transactionId: TID }, '::ffff:10.0.0.1', 1)!);
    expect(mapped.xorMappedAddress?.address).toBe('::ffff:a00:1');
    expect(encodeBindingSuccess({ transactionId: TID }, 'not-an-ip', 1)).toBeNull();
  });

  it('decodes ICE connectivity-check attributes (RFC 8445 §16.1)', () => {
    const m = ok(encodeStun({
      type: 0x0001, transactionId: TID, fingerprint: true,
      attributes: [
        { type: 0x0006, value: Buffer.from('abcd:efgh') },
        { type: 0x0024, value: hex('6e7f1eff') },
        { type: 0x802a, value: hex('0102030405060708') },
        { type: 0x0025, value: Buffer.alloc(0) },
        { type: 0x8022, value: Buffer.from('Chromium WebRTC') },
        { type: 0x0008, value: Buffer.alloc(20) },
      ],
    }));
    expect(m).toMatchObject({
      username: 'abcd:efgh', priority: 0x6e7f1eff, iceControlling: '0102030405060708', iceControlled: null,
      useCandidate: true, software: 'Chromium WebRTC', messageIntegrity: true, fingerprint: 'valid',
    });
  });

  it('property: parse never throws on arbitrary bytes (or STUN-shaped bytes)', () => {
    const stunish = fc.tuple(fc.integer({ min: 0, max: 0x3fff }), fc.uint8Array({ maxLength: 64 })).map(([type, body]) => {
      const b = Buffer.alloc(20 + body.length);
      b.writeUInt16BE(type, 0);
      b.writeUInt16BE(body.length, 2);
      b.writeUInt32BE(0x2112a442, 4);
      Buffer.from(body).copy(b, 20);
      return new Uint8Array(b);
    });
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), stunish), (bytes) => {
      const r = parseStun(bytes);
      expect(typeof r.ok).toBe('boolean');
    }), { numRuns: 2000 });
  });

  it('property: encode then parse gives back type, id and attributes', () => {
    const attr = fc.record({ type: fc.integer({ min: 0x7000, max: 0x7fff }), value: fc.uint8Array({ maxLength: 40 }) });
    fc.assert(fc.property(fc.integer({ min: 0, max: 0x3fff }), fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.array(attr, { maxLength: 6 }), fc.boolean(), (type, tid, attributes, fingerprint) => {
        const m = ok(encodeStun({ type, transactionId: tid, attributes, fingerprint }));
        expect(m.type).toBe(type);
        expect(m.transactionId.equals(Buffer.from(tid))).toBe(true);
        expect(m.attributes.slice(0, attributes.length).map((a) => [a.type, a.value.toString('hex')]))
          .toEqual(attributes.map((a) => [a.type, Buffer.from(a.value).toString('hex')]));
        expect(m.fingerprint).toBe(fingerprint ? 'valid' : 'absent');
      }), { numRuns: 500 });
  });
});
