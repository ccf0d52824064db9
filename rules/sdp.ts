/**
 * SDP and ICE candidate lines (RFC 8839 §5.1, RFC 8866 §5.7): the addresses a call exposes. Every
 * ICE candidate type matters (a call can expose all of them): `host` is the LAN (or public)
 * address, `srflx` the public address a STUN server reflected (so a STUN server was used),
 * `relay` the TURN allocation; `raddr` on srflx/relay is the host address behind it. mDNS
 * `.local` names, 0.0.0.0 and loopback carry nothing and are skipped.
 */
import ipaddr from 'ipaddr.js';

export interface IceCandidate {
  readonly foundation: string;
  readonly component: string;
  readonly transport: string;
  readonly priority: string;
  readonly address: string;
  readonly port: number;
  /** host | srflx | prflx | relay (as written). */
  readonly type: string;
  readonly relatedAddress?: string;
}

export interface SdpAddress {
  readonly address: string;
  /** Candidate type (`host`, `srflx`, ...), `raddr` (the related address), `c` or `o` line. */
  readonly source: string;
}

const CAND = /(?:^|\s|a=)candidate:(\S+) (\d+) (\S+) (\d+) (\S+) (\d+) typ (\S+)(.*)$/;
const CONN = /^(c|o)=.*\bIN IP[46] ([0-9A-Fa-f:.]+)/;

export function parseCandidateLine(line: string): IceCandidate | null {
  const m = CAND.exec(line.trim());
  if (!m) return null;
  const rest = m[8] ?? '';
  const raddr = /\braddr (\S+)/.exec(rest)?.[1];
  const c = {
    foundation: m[1]!,
    component: m[2]!,
    transport: m[3]!.toLowerCase(),
    priority: m[4]!,
    address: m[5]!,
    port: Number(m[6]),
    type: m[7]!.toLowerCase(),
  };
  return raddr === undefined ? c : { ...c, relatedAddress: raddr };
}

/** True when an address in SDP is worth reporting: a valid IP that is not 0.0.0.0/::/loopback. */
export function isReportableSdpIp(s: string): boolean {
  try {
    if (!ipaddr.isValid(s)) return false;
    const r = ipaddr.parse(s).range();
    return r !== 'unspecified' && r !== 'loopback' && r !== 'broadcast' && r !== 'multicast';
  } catch {
    return false;
  }
}

/** True when a string plausibly holds SDP or ICE candidates (cheap gate before parsing). */
export function looksLikeSdp(s: string): boolean {
  return s.includes('candidate:') || s.includes('c=IN IP') || s.includes('o=- ');
}

/** Every reportable address in an SDP blob or a single candidate line, deduplicated, in order. */
export function sdpAddresses(text: string, maxLines = 10_000): SdpAddress[] {
  const out: SdpAddress[] = [];
  const seen = new Set<string>();
  const add = (address: string, source: string): void => {
    const a = address.replace(/^\[|\]$/g, '');
    const key = `${a} ${source}`;
    if (!seen.has(key) && isReportableSdpIp(a)) {
      seen.add(key);
      out.push({ address: a.includes(':') ? a.toLowerCase() : a, source });
    }
  };
  const lines = text.split(/\r?\n|\r/, maxLines);
  for (const line of lines) {
    if (line.includes('candidate:')) {
      const c = parseCandidateLine(line);
      if (c) {
        add(c.address, c.type);
        if (c.relatedAddress !== undefined) add(c.relatedAddress, 'raddr');
      }
    } else if (line.startsWith('c=') || line.startsWith('o=')) {
      const m = CONN.exec(line);
      if (m) add(m[2]!, m[1]!);
    }
  }
  return out;
}
