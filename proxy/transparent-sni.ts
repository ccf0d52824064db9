/**
 * Reads the server name (SNI, RFC 6066 §3) out of a TLS ClientHello (RFC 8446 §4.1.2) without
 * consuming it: transparent listeners have no CONNECT line, so the ClientHello is the only place
 * the client says which host it wants. The hello may span several records and TCP segments; the
 * caller feeds what it has buffered and gets "more", "ok" or "bad". Bounded and total: never throws.
 */

/** Largest ClientHello we wait for (post-quantum key shares make ~2 KB hellos; 64 KB is plenty). */
export const MAX_HELLO_BYTES = 64 * 1024;

export type HelloResult =
  | { readonly state: 'more' }
  | { readonly state: 'bad'; readonly reason: string }
  /** `sni` is null when the client sent no server_name extension. */
  | { readonly state: 'ok'; readonly sni: string | null };

const MORE: HelloResult = Object.freeze({ state: 'more' });
const bad = (reason: string): HelloResult => ({ state: 'bad', reason });

class Short extends Error {}

/** Parses the ClientHello at the start of `buf` (all bytes the client sent so far). */
export function readClientHello(buf: Buffer): HelloResult {
  if (buf.length === 0) return MORE;
  if (buf[0] !== 0x16) return bad('not a TLS handshake');
  if (buf.length > MAX_HELLO_BYTES + 5 * 16) return bad('ClientHello too large');
  // Handshake bytes come from consecutive handshake records.
  const parts: Buffer[] = [];
  let have = 0;
  let need = -1;
  for (let off = 0; off + 5 <= buf.length; ) {
    if (buf[off] !== 0x16) return bad('ClientHello interleaved with other records');
    const len = buf.readUInt16BE(off + 3);
    if (len === 0 || len > 16384) return bad('bad TLS record length');
    if (off + 5 + len > buf.length) break;
    parts.push(buf.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need < 0 && have >= 4) {
      const hs = Buffer.concat(parts);
      if (hs[0] !== 0x01) return bad('first handshake message is not a ClientHello');
      need = 4 + hs.readUIntBE(1, 3);
      if (need > MAX_HELLO_BYTES) return bad('ClientHello too large');
    }
    if (need >= 0 && have >= need) return parseHello(Buffer.concat(parts).subarray(4, need));
  }
  return MORE;
}

function parseHello(b: Buffer): HelloResult {
  let p = 0;
  const take = (n: number): number => {
    if (p + n > b.length) throw new Short();
    const at = p;
    p += n;
    return at;
  };
  try {
    take(2 + 32); // legacy_version, random
    take(b[take(1)]!); // legacy_session_id
    take(b.readUInt16BE(take(2))); // cipher_suites
    take(b[take(1)]!); // legacy_compression_methods
    if (p === b.length) return { state: 'ok', sni: null }; // no extensions at all
    const extEnd = take(2) + 2 + b.readUInt16BE(p - 2);
    if (extEnd > b.length) return bad('malformed ClientHello extensions');
    while (p + 4 <= extEnd) {
      const type = b.readUInt16BE(take(2));
      const len = b.readUInt16BE(take(2));
      const start = take(len);
      if (type !== 0) continue;
      // server_name: ServerNameList { NameType name_type; HostName host_name<1..2^16-1> }
      const listEnd = start + 2 + b.readUInt16BE(start);
      if (listEnd > start + len) return bad('malformed server_name extension');
      for (let q = start + 2; q + 3 <= listEnd; ) {
        const nameType = b[q]!;
        const nameLen = b.readUInt16BE(q + 1);
        if (q + 3 + nameLen > listEnd) return bad('malformed server_name extension');
        if (nameType === 0) return { state: 'ok', sni: b.toString('latin1', q + 3, q + 3 + nameLen) };
        q += 3 + nameLen;
      }
      return { state: 'ok', sni: null };
    }
    return { state: 'ok', sni: null };
  } catch (err: unknown) {
    if (err instanceof Short || err instanceof RangeError) return bad('truncated ClientHello');
    return bad('malformed ClientHello');
  }
}
