/**
 * STUN messages (RFC 8489, which obsoletes RFC 5389 with the same framing): a pure parser that
 * returns a message or a reason and never throws, and the encoder for the Binding Success
 * response the sensor sends. ICE attributes: RFC 8445 §16.1.
 */
import { ATTR, FINGERPRINT_XOR, MAGIC_COOKIE, attributeName, decodeAddress, splitType, type StunAddress } from './attrs.js';
import { crc32 } from './crc32.js';

export { ATTR, MAGIC_COOKIE, joinType, splitType, type StunAddress } from './attrs.js';
export { SOFTWARE_NAME, encodeBindingSuccess, encodeStun, type EncodeSpec } from './encode.js';

/** §5: the two class bits C1 C0. */
export type StunClass = 'request' | 'indication' | 'success' | 'error';
const CLASSES: readonly StunClass[] = ['request', 'indication', 'success', 'error'];

/** Methods of STUN (§18.2) and TURN (RFC 8656 §17). */
const METHODS = new Map<number, string>([
  [0x001, 'binding'], [0x003, 'allocate'], [0x004, 'refresh'], [0x006, 'send'],
  [0x007, 'data'], [0x008, 'createpermission'], [0x009, 'channelbind'],
]);

export interface StunAttribute {
  readonly type: number;
  readonly name: string;
  readonly value: Buffer;
}

export interface StunMessage {
  /** The 14-bit message type (§5), e.g. 0x0001 = Binding request. */
  readonly type: number;
  readonly method: number;
  /** "binding", "allocate", … or "0x…" for unknown methods. */
  readonly methodName: string;
  readonly class: StunClass;
  /** Body length from the header (excludes the 20-byte header). */
  readonly length: number;
  readonly transactionId: Buffer;
  readonly transactionIdHex: string;
  readonly attributes: readonly StunAttribute[];
  readonly mappedAddress: StunAddress | null;
  readonly xorMappedAddress: StunAddress | null;
  readonly username: string | null;
  readonly software: string | null;
  readonly realm: string | null;
  readonly nonce: string | null;
  readonly priority: number | null;
  /** ICE-CONTROLLING / ICE-CONTROLLED tie-breaker as 16 hex digits. */
  readonly iceControlling: string | null;
  readonly iceControlled: string | null;
  readonly useCandidate: boolean;
  readonly messageIntegrity: boolean;
  /** 'valid' when present and correct; a wrong one makes the parse fail (§14.7). */
  readonly fingerprint: 'valid' | 'absent';
}

export type StunParse = { readonly ok: true; readonly message: StunMessage } | { readonly ok: false; readonly reason: string };

/** The cheap DPI test of RFC 8489 §6: magic cookie, top two bits zero, length (a multiple of 4) matching the datagram. */
export function looksLikeStun(buf: Uint8Array): boolean {
  if (buf.length < 20 || (buf[0]! & 0xc0) !== 0) return false;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const len = b.readUInt16BE(2);
  return len % 4 === 0 && len + 20 === b.length && b.readUInt32BE(4) === MAGIC_COOKIE;
}

const fail = (reason: string): StunParse => ({ ok: false, reason });
const text = (v: Buffer): string => v.toString('utf8');

export function parseStun(input: Uint8Array): StunParse {
  if (!(input instanceof Uint8Array)) return fail('not bytes');
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (buf.length < 20) return fail('shorter than the 20-byte header');
  if ((buf[0]! & 0xc0) !== 0) return fail('top two bits are not zero');
  const length = buf.readUInt16BE(2);
  if (buf.readUInt32BE(4) !== MAGIC_COOKIE) return fail('no magic cookie (not RFC 5389/8489 STUN)');
  if (length % 4 !== 0) return fail('length is not a multiple of 4');
  if (length + 20 !== buf.length) return fail(`length ${length} does not match ${buf.length - 20} body bytes`);
  const type = buf.readUInt16BE(0);
  const { method, cls } = splitType(type);
  const transactionId = Buffer.from(buf.subarray(8, 20));
  const attributes: StunAttribute[] = [];
  let fingerprint: 'valid' | 'absent' = 'absent';
  // §14: TLVs, values padded to 4 bytes; FINGERPRINT must be the last attribute
  for (let off = 20; off < buf.length; ) {
    if (fingerprint === 'valid') return fail('attribute after FINGERPRINT');
    if (off + 4 > buf.length) return fail('truncated attribute header');
    const atype = buf.readUInt16BE(off);
    const alen = buf.readUInt16BE(off + 2);
    const end = off + 4 + alen;
    if (end > buf.length) return fail(`attribute ${attributeName(atype)} overruns the message`);
    const value = Buffer.from(buf.subarray(off + 4, end));
    if (atype === ATTR.FINGERPRINT) {
      if (alen !== 4) return fail('FINGERPRINT is not 4 bytes');
      if ((crc32(buf, 0, off) ^ FINGERPRINT_XOR) >>> 0 !== value.readUInt32BE(0)) return fail('FINGERPRINT mismatch');
      fingerprint = 'valid';
    }
    attributes.push({ type: atype, name: attributeName(atype), value });
    off = end + ((4 - (alen % 4)) % 4);
  }
  return decodeAttributes(type, method, cls, length, transactionId, attributes, fingerprint);
}

function decodeAttributes(
  type: number, method: number, cls: number, length: number, transactionId: Buffer,
  attributes: StunAttribute[], fingerprint: 'valid' | 'absent',
): StunParse {
  const first = (t: number): Buffer | undefined => attributes.find((a) => a.type === t)?.value;
  const str = (t: number): string | null => { const v = first(t); return v ? text(v) : null; };
  const addr = (t: number, tid?: Buffer): StunAddress | null | 'bad' => {
    const v = first(t);
    return v ? (decodeAddress(v, tid) ?? 'bad') : null;
  };
  const u64 = (t: number): string | null | 'bad' => {
    const v = first(t);
    return v ? (v.length === 8 ? v.toString('hex') : 'bad') : null;
  };
  const mapped = addr(ATTR.MAPPED_ADDRESS);
  const xorMapped = addr(ATTR.XOR_MAPPED_ADDRESS, transactionId);
  if (mapped === 'bad') return fail('malformed MAPPED-ADDRESS');
  if (xorMapped === 'bad') return fail('malformed XOR-MAPPED-ADDRESS');
  const prio = first(ATTR.PRIORITY);
  if (prio && prio.length !== 4) return fail('malformed PRIORITY');
  const controlling = u64(ATTR.ICE_CONTROLLING);
  const controlled = u64(ATTR.ICE_CONTROLLED);
  if (controlling === 'bad' || controlled === 'bad') return fail('malformed ICE-CONTROLLING/ICE-CONTROLLED');
  const mi = first(ATTR.MESSAGE_INTEGRITY);
  if (mi && mi.length !== 20) return fail('MESSAGE-INTEGRITY is not 20 bytes');
  return {
    ok: true,
    message: {
      type, method, methodName: METHODS.get(method) ?? `0x${method.toString(16).padStart(3, '0')}`,
      class: CLASSES[cls]!, length, transactionId, transactionIdHex: transactionId.toString('hex'), attributes,
      mappedAddress: mapped, xorMappedAddress: xorMapped,
      username: str(ATTR.USERNAME), software: str(ATTR.SOFTWARE), realm: str(ATTR.REALM), nonce: str(ATTR.NONCE),
      priority: prio ? prio.readUInt32BE(0) : null, iceControlling: controlling, iceControlled: controlled,
      useCandidate: first(ATTR.USE_CANDIDATE) !== undefined, messageIntegrity: mi !== undefined, fingerprint,
    },
  };
}
