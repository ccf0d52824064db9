/**
 * STUN attribute codes and (XOR-)MAPPED-ADDRESS value codecs (RFC 8489 §14.1, §14.2; ICE
 * attributes from RFC 8445 §16.1; TURN's from RFC 8656 §18). Pure; decoders return null on
 * malformed values instead of throwing.
 */
import { isIPv4, isIPv6 } from 'node:net';

export const MAGIC_COOKIE = 0x2112a442;
/** §14.7: FINGERPRINT is the CRC-32 of the message up to it, XORed with "STUN". */
export const FINGERPRINT_XOR = 0x5354554e;

/** §5 type bits M11..M0 / C1 C0 interleaved: M0-3, C0, M4-6, C1, M7-11. */
export function splitType(t: number): { method: number; cls: number } {
  return {
    method: (t & 0x000f) | ((t & 0x00e0) >> 1) | ((t & 0x3e00) >> 2),
    cls: ((t & 0x0010) >> 4) | ((t & 0x0100) >> 7),
  };
}

export function joinType(method: number, cls: number): number {
  return (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7);
}


export const ATTR = {
  MAPPED_ADDRESS: 0x0001,
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  REALM: 0x0014,
  NONCE: 0x0015,
  REQUESTED_TRANSPORT: 0x0019,
  XOR_MAPPED_ADDRESS: 0x0020,
  PRIORITY: 0x0024,
  USE_CANDIDATE: 0x0025,
  SOFTWARE: 0x8022,
  FINGERPRINT: 0x8028,
  ICE_CONTROLLED: 0x8029,
  ICE_CONTROLLING: 0x802a,
} as const;

const NAMES = new Map<number, string>(Object.entries(ATTR).map(([k, v]) => [v, k.replace(/_/g, '-')]));

/** "XOR-MAPPED-ADDRESS", or "0x1234" for attributes we do not know. */
export function attributeName(type: number): string {
  return NAMES.get(type) ?? `0x${type.toString(16).padStart(4, '0')}`;
}

export interface StunAddress {
  readonly family: 'IPv4' | 'IPv6';
  readonly address: string;
  readonly port: number;
}

/** XOR mask for the address: the cookie (IPv4) or cookie ‖ transaction id (IPv6), §14.2. */
function xorMask(transactionId: Uint8Array): Buffer {
  const mask = Buffer.alloc(16);
  mask.writeUInt32BE(MAGIC_COOKIE, 0);
  Buffer.from(transactionId).copy(mask, 4, 0, 12);
  return mask;
}

function ipv6String(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // the WHATWG URL parser prints the canonical RFC 5952 form of any 8-group literal
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** MAPPED-ADDRESS (§14.1) or, with a transaction id, XOR-MAPPED-ADDRESS (§14.2). */
export function decodeAddress(value: Buffer, transactionId?: Uint8Array): StunAddress | null {
  if (value.length < 4) return null;
  const family = value[1];
  const len = family === 0x01 ? 4 : family === 0x02 ? 16 : 0;
  if (len === 0 || value.length !== 4 + len) return null;
  const raw = Buffer.from(value.subarray(4, 4 + len));
  let port = value.readUInt16BE(2);
  if (transactionId) {
    port ^= MAGIC_COOKIE >>> 16;
    const mask = xorMask(transactionId);
    for (let i = 0; i < len; i++) raw[i] = raw[i]! ^ mask[i]!;
  }
  const address = len === 4 ? [...raw].join('.') : ipv6String(raw);
  return { family: len === 4 ? 'IPv4' : 'IPv6', address, port };
}

function ipv6Bytes(address: string): Buffer | null {
  if (!isIPv6(address)) return null;
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const o = v4[1]!.split('.').map(Number);
    text = text.slice(0, -v4[1]!.length) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** The value of an XOR-MAPPED-ADDRESS (§14.2) for this address; null for a non-IP string. */
export function encodeXorAddress(address: string, port: number, transactionId: Uint8Array): Buffer | null {
  const raw = isIPv4(address) ? Buffer.from(address.split('.').map(Number)) : ipv6Bytes(address);
  if (!raw || !Number.isInteger(port) || port < 0 || port > 0xffff) return null;
  const value = Buffer.alloc(4 + raw.length);
  value[1] = raw.length === 4 ? 0x01 : 0x02;
  value.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), 2);
  const mask = xorMask(transactionId);
  for (let i = 0; i < raw.length; i++) value[4 + i] = raw[i]! ^ mask[i]!;
  return value;
}
