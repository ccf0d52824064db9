/**
 * STUN encoder (RFC 8489 §5, §14): any message with padded attributes and an optional
 * FINGERPRINT, and the Binding Success response the sensor sends (§7.3.1). Pure.
 */
import { ATTR, FINGERPRINT_XOR, MAGIC_COOKIE, encodeXorAddress, joinType } from './attrs.js';
import { crc32 } from './crc32.js';

export interface EncodeSpec {
  readonly type: number;
  readonly transactionId: Uint8Array;
  readonly attributes: ReadonlyArray<{ readonly type: number; readonly value: Uint8Array }>;
  /** Append FINGERPRINT (§14.7). */
  readonly fingerprint?: boolean;
}

/** Encode a message; attribute values are padded to 4 bytes with zeros (§14). */
export function encodeStun(spec: EncodeSpec): Buffer {
  const parts: Buffer[] = [];
  for (const a of spec.attributes) {
    const head = Buffer.alloc(4);
    head.writeUInt16BE(a.type, 0);
    head.writeUInt16BE(a.value.length, 2);
    parts.push(head, Buffer.from(a.value), Buffer.alloc((4 - (a.value.length % 4)) % 4));
  }
  const body = Buffer.concat(parts);
  const fpLen = spec.fingerprint ? 8 : 0;
  const msg = Buffer.alloc(20 + body.length + fpLen);
  msg.writeUInt16BE(spec.type & 0x3fff, 0);
  msg.writeUInt16BE(body.length + fpLen, 2); // the length already counts FINGERPRINT (§14.7)
  msg.writeUInt32BE(MAGIC_COOKIE, 4);
  Buffer.from(spec.transactionId).copy(msg, 8, 0, 12);
  body.copy(msg, 20);
  if (spec.fingerprint) {
    const off = 20 + body.length;
    msg.writeUInt16BE(ATTR.FINGERPRINT, off);
    msg.writeUInt16BE(4, off + 2);
    msg.writeUInt32BE((crc32(msg, 0, off) ^ FINGERPRINT_XOR) >>> 0, off + 4);
  }
  return msg;
}

export const SOFTWARE_NAME = 'leakwatch';

/**
 * A Binding Success response (§7.3.1) to `request`, telling the client its observed address in
 * XOR-MAPPED-ADDRESS, with SOFTWARE and FINGERPRINT. null when the address is not an IP literal.
 */
export function encodeBindingSuccess(request: { readonly transactionId: Uint8Array }, mappedAddress: string, port: number): Buffer | null {
  const xor = encodeXorAddress(mappedAddress, port, request.transactionId);
  if (!xor) return null;
  return encodeStun({
    type: joinType(0x001, 2),
    transactionId: request.transactionId,
    attributes: [{ type: ATTR.XOR_MAPPED_ADDRESS, value: xor }, { type: ATTR.SOFTWARE, value: Buffer.from(SOFTWARE_NAME) }],
    fingerprint: true,
  });
}
