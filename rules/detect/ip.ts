/**
 * IP addresses in free text: public (ipaddr.js range `unicast`) only. Private, loopback and
 * documentation ranges are not leaks in ordinary text; inside SDP the caller uses rules/sdp.ts,
 * which keeps private host candidates too. Version strings are the classic false positive
 * in user agents and URLs: a dotted quad preceded by `v`, `/`, `.`, a letter or a digit, or followed by
 * `.digit`, is a version (`Chrome/126.0.0.0`, `1.2.3.4.5`), not an address.
 */
import ipaddr from 'ipaddr.js';
import type { Candidate } from './types.js';

const V4 = /(?<![\w./:-])(?:\d{1,3}\.){3}\d{1,3}(?![\w-]|\.\d)/g;
// Loose IPv6 shape (hex groups with ≥ 2 colons), validated by ipaddr.js afterwards.
const V6 = /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])/g;

export function isPublicIp(s: string): boolean {
  try {
    if (!ipaddr.isValid(s)) return false;
    const a = ipaddr.parse(s);
    if (a.kind() === 'ipv6') {
      const v6 = a as ipaddr.IPv6;
      if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().range() === 'unicast';
      // Global unicast is 2000::/3; ipaddr.js calls everything unassigned `unicast` (e.g. `1::2`).
      return v6.range() === 'unicast' && (v6.parts[0]! & 0xe000) === 0x2000;
    }
    return a.range() === 'unicast';
  } catch {
    return false;
  }
}

export function detectIps(text: string): Candidate[] {
  const out: Candidate[] = [];
  if (/\d\.\d/.test(text)) {
    V4.lastIndex = 0;
    for (let m = V4.exec(text); m !== null; m = V4.exec(text)) {
      if (ipaddr.IPv4.isValidFourPartDecimal(m[0]) && isPublicIp(m[0])) {
        out.push({ kind: 'ip_address', value: m[0], start: m.index, end: m.index + m[0].length });
      }
    }
  }
  // The IPv6 shape needs two colons and a hex digit next to one (`12:30` or one `host:port` never run it).
  const colon = text.indexOf(':');
  if (colon !== -1 && text.indexOf(':', colon + 1) !== -1 && /[0-9A-Fa-f]:[0-9A-Fa-f:]/.test(text)) {
    V6.lastIndex = 0;
    for (let m = V6.exec(text); m !== null; m = V6.exec(text)) {
      if (m[0].length >= 6 && isPublicIp(m[0])) {
        out.push({ kind: 'ip_address', value: m[0].toLowerCase(), start: m.index, end: m.index + m[0].length });
      }
    }
  }
  return out;
}
