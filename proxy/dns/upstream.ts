/**
 * The forwarder: sends a query to the one configured upstream resolver over UDP (a fresh socket
 * and a random id per try, a timeout, one retry) and over TCP when the answer is truncated
 * (RFC 7766 §5). It only ever talks to that IP:port, never through the system resolver, and
 * refuses when that IP:port is leakwatch's own DNS listener (no loops).
 */
import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { connect, isIPv6 } from 'node:net';
import { isTruncated, withId } from './wire.js';

export type ForwardResult =
  | { readonly ok: true; readonly response: Buffer; readonly via: 'udp' | 'tcp' }
  | { readonly ok: false; readonly reason: 'timeout' | 'loop' | 'busy' | 'error' };

export interface ForwarderOptions {
  readonly upstream: { readonly host: string; readonly port: number };
  readonly timeoutMs: number;
  /** True when upstream is our own listener (checked per query: the port may be bound late). */
  readonly isSelf: () => boolean;
  readonly maxInFlight: number;
}

function udpTry(host: string, port: number, query: Buffer, timeoutMs: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const id = randomInt(0x10000);
    const sock = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (r: Buffer | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(r);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    sock.on('error', () => finish(null));
    sock.on('message', (msg, rinfo) => {
      // accept only the upstream's answer to this id (RFC 5452 §9.1)
      if (rinfo.port !== port || msg.length < 12 || msg.readUInt16BE(0) !== id || !(msg[2]! & 0x80)) return;
      finish(msg);
    });
    sock.send(withId(query, id), port, host, (err) => err && finish(null));
  });
}

function tcpTry(host: string, port: number, query: Buffer, timeoutMs: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const id = randomInt(0x10000);
    const sock = connect({ host, port });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (r: Buffer | null): void => {
      if (done) return;
      done = true;
      sock.destroy();
      resolve(r);
    };
    sock.setTimeout(timeoutMs, () => finish(null));
    sock.on('error', () => finish(null));
    sock.on('close', () => finish(null));
    sock.on('connect', () => {
      const q = withId(query, id);
      const len = Buffer.alloc(2);
      len.writeUInt16BE(q.length);
      sock.write(Buffer.concat([len, q]));
    });
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2) return;
      const need = buf.readUInt16BE(0);
      if (buf.length < 2 + need) return;
      const msg = buf.subarray(2, 2 + need);
      finish(msg.length >= 12 && msg.readUInt16BE(0) === id ? Buffer.from(msg) : null);
    });
  });
}

export function createForwarder(opts: ForwarderOptions): { forward(query: Buffer): Promise<ForwardResult>; readonly inFlight: number } {
  let inFlight = 0;
  const { host, port } = opts.upstream;
  return {
    get inFlight() {
      return inFlight;
    },
    async forward(query) {
      if (opts.isSelf()) return { ok: false, reason: 'loop' };
      if (inFlight >= opts.maxInFlight) return { ok: false, reason: 'busy' };
      inFlight++;
      try {
        let response: Buffer | null = null;
        for (let attempt = 0; attempt < 2 && !response; attempt++) response = await udpTry(host, port, query, opts.timeoutMs);
        if (!response) return { ok: false, reason: 'timeout' };
        if (!isTruncated(response)) return { ok: true, response, via: 'udp' };
        const full = await tcpTry(host, port, query, opts.timeoutMs);
        return full ? { ok: true, response: full, via: 'tcp' } : { ok: true, response, via: 'udp' };
      } catch {
        return { ok: false, reason: 'error' };
      } finally {
        inFlight--;
      }
    },
  };
}
