/**
 * DNS message helpers on top of dns-packet (RFC 1035 §4.1): safe query parsing, synthesized
 * answers, id rewriting, truncation for UDP (RFC 1035 §4.2.1, RFC 6891 §6.2.5) and the TTL a
 * response may be cached for (RFC 1035 §3.2.1, negative answers RFC 2308 §5). Pure; nothing here
 * throws on input.
 */
import dnsPacket, { type Answer, type DecodedPacket, type Question } from 'dns-packet';

const QR = 0x8000;
const TC = 0x0200;
const RD = 0x0100;
const RA = 0x0080;
const AA = 0x0400;

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export type RcodeName = keyof typeof RCODE;

export interface Query {
  readonly id: number;
  readonly question: Question;
  /** Name as sent, without the trailing dot. */
  readonly name: string;
  /** "A", "AAAA", "HTTPS", "TYPE99" (RFC 3597 §5 spelling for unknown types). */
  readonly qtype: string;
  readonly qclass: string;
  readonly recursionDesired: boolean;
  /** Largest UDP response the client accepts: 512, or its EDNS payload size (RFC 6891 §6.2.5). */
  readonly udpLimit: number;
}

const TYPE_NAMES: Readonly<Record<string, string>> = { UNKNOWN_64: 'SVCB', UNKNOWN_65: 'HTTPS' };

export function qtypeName(type: string): string {
  return TYPE_NAMES[type] ?? (type.startsWith('UNKNOWN_') ? `TYPE${type.slice(8)}` : type);
}

function decode(buf: Buffer): DecodedPacket | null {
  try {
    return dnsPacket.decode(buf);
  } catch {
    return null;
  }
}

/** A standard query (QR=0, OPCODE=0) with exactly one question, or null (then it is dropped). */
export function parseQuery(buf: Buffer): Query | null {
  if (buf.length < 12 || buf.length > 65535) return null;
  const flags = buf.readUInt16BE(2);
  if (flags & QR || ((flags >> 11) & 0xf) !== 0) return null;
  const p = decode(buf);
  const q = p?.questions;
  if (!p || !q || q.length !== 1 || !q[0] || typeof q[0].name !== 'string') return null;
  const opt = (p.additionals ?? []).find((a): a is Extract<Answer, { type: 'OPT' }> => a.type === 'OPT');
  return {
    id: p.id ?? 0,
    question: q[0],
    name: q[0].name.replace(/\.$/, ''),
    qtype: qtypeName(String(q[0].type)),
    qclass: String(q[0].class ?? 'IN'),
    recursionDesired: Boolean(p.flag_rd),
    udpLimit: Math.min(4096, Math.max(512, opt?.udpPayloadSize ?? 512)),
  };
}

/** A response we make up: the question echoed, these answers and this rcode (RFC 1035 §4.1.1). */
export function synthesize(q: Query, rcode: RcodeName, answers: Answer[] = [], extraFlags = 0): Buffer {
  const flags = AA | RA | (q.recursionDesired ? RD : 0) | RCODE[rcode] | extraFlags;
  try {
    return dnsPacket.encode({ type: 'response', id: q.id, flags, questions: [q.question], answers });
  } catch {
    // a question dns-packet decoded but cannot re-encode (odd label bytes): header only
    const b = Buffer.alloc(12);
    b.writeUInt16BE(q.id, 0);
    b.writeUInt16BE(QR | flags, 2);
    return b;
  }
}

/** A copy of `buf` carrying `id` (responses must keep the query id, RFC 1035 §4.1.1). */
export function withId(buf: Buffer, id: number): Buffer {
  const out = Buffer.from(buf);
  if (out.length >= 2) out.writeUInt16BE(id & 0xffff, 0);
  return out;
}

/** The response a UDP client can take: as is, or header + question with TC set. */
export function fitUdp(q: Query, response: Buffer): Buffer {
  if (response.length <= q.udpLimit) return response;
  const rcode = response.length >= 4 ? response.readUInt16BE(2) & 0xf : 0;
  const name = (Object.keys(RCODE) as RcodeName[]).find((k) => RCODE[k] === rcode) ?? 'NOERROR';
  return synthesize(q, name, [], TC);
}

export function isTruncated(response: Buffer): boolean {
  return response.length >= 4 && (response.readUInt16BE(2) & TC) !== 0;
}

export function rcodeOf(response: Buffer): string {
  if (response.length < 4) return 'FORMERR';
  const r = response.readUInt16BE(2) & 0xf;
  return (Object.keys(RCODE) as RcodeName[]).find((k) => RCODE[k] === r) ?? `RCODE${r}`;
}

export interface ResponseFacts {
  readonly rcode: string;
  /** Answer data, comma-joined: "93.184.216.34,93.184.216.35". */
  readonly answer: string;
  /** Seconds this response may be cached; 0 = do not cache. */
  readonly ttl: number;
}

const dataText = (a: Answer): string =>
  'data' in a && (typeof a.data === 'string' || typeof a.data === 'number') ? String(a.data) : qtypeName(String(a.type));

/** Facts of an upstream response; null when it does not decode. */
export function responseFacts(response: Buffer): ResponseFacts | null {
  const p = decode(response);
  if (!p || !p.flag_qr) return null;
  const rcode = rcodeOf(response);
  const answers = (p.answers ?? []).filter((a) => a.type !== 'OPT');
  let ttl = 0;
  if (!p.flag_tc && (rcode === 'NOERROR' || rcode === 'NXDOMAIN')) {
    if (answers.length > 0) ttl = Math.min(...answers.map((a) => ('ttl' in a && typeof a.ttl === 'number' ? a.ttl : 0)));
    else {
      // RFC 2308 §5: negative answers live for min(SOA TTL, SOA MINIMUM); without SOA, not cached
      const soa = (p.authorities ?? []).find((a): a is Extract<Answer, { type: 'SOA' }> => a.type === 'SOA');
      if (soa) ttl = Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0);
    }
  }
  return { rcode, answer: answers.map(dataText).join(','), ttl: Math.max(0, Math.min(ttl, 86_400)) };
}
