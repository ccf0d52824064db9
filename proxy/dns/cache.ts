/**
 * Forwarded answers cached per TTL (RFC 1035 §3.2.1) in a bounded LRU, keyed by name (case
 * folded, RFC 4343), type and class. Entries are stored as wire bytes and served with the
 * asking query's id; they expire whole at the smallest TTL of the answer.
 */
import { Lru } from '../../certs/lru.js';

interface Entry {
  readonly response: Buffer;
  readonly expires: number;
}

export class DnsCache {
  readonly #lru: Lru<string, Entry>;

  constructor(max: number) {
    this.#lru = new Lru(Math.max(1, Math.floor(max)));
  }

  static key(name: string, qtype: string, qclass: string): string {
    return `${name.toLowerCase()}|${qtype}|${qclass}`;
  }

  get(key: string, now: number): Buffer | null {
    const e = this.#lru.get(key);
    if (!e) return null;
    if (e.expires <= now) {
      this.#lru.delete(key);
      return null;
    }
    return e.response;
  }

  set(key: string, response: Buffer, ttlSeconds: number, now: number): void {
    if (ttlSeconds > 0) this.#lru.set(key, { response: Buffer.from(response), expires: now + ttlSeconds * 1000 });
  }

  get size(): number {
    return this.#lru.size;
  }
}
