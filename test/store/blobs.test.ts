import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ENC_DEFLATE, ENC_NONE, pack, packDetails, unpack, unpackDetails } from '../../store/blobs.js';

describe('blobs', () => {
  it('round-trips small, mid-size, large and incompressible bodies', () => {
    const json = Buffer.from(JSON.stringify(Array.from({ length: 400 }, (_, i) => ({ user: `@u${i}:example.org`, n: i }))));
    for (const b of [Buffer.from('{}'), json.subarray(0, 5000), json, Buffer.concat([json, json, json, json]), randomBytes(4000)]) {
      const p = pack(b);
      expect(unpack(p.enc, p.data).equals(b)).toBe(true);
    }
    expect(pack(json).enc).toBe(ENC_DEFLATE);
    expect(pack(json).data.length).toBeLessThan(json.length / 3);
    expect(pack(randomBytes(4000)).enc).toBe(ENC_NONE);
  });

  it('details: one encoding byte, then JSON (deflated when it helps)', () => {
    const d = { l: 'proxy', hv: '1.1', qh: Array.from({ length: 40 }, (_, i) => [`X-H${i}`, 'value value value'] as [string, string]) };
    const packed = packDetails(JSON.stringify(d));
    expect(packed[0]).toBe(ENC_DEFLATE);
    expect(unpackDetails(packed)).toEqual(d);
    // Under 1 KB a zlib call costs more than the bytes it saves: stored as plain JSON.
    const small = { l: 'proxy', hv: '1.1', qh: Array.from({ length: 10 }, (_, i) => [`X-H${i}`, 'value value value'] as [string, string]) };
    expect(packDetails(JSON.stringify(small))[0]).toBe(ENC_NONE);
    expect(unpackDetails(packDetails(JSON.stringify(small)))).toEqual(small);
    expect(unpackDetails(packDetails('{"l":"x"}'))).toEqual({ l: 'x' });
    expect(unpackDetails(undefined)).toBeNull();
  });
});
