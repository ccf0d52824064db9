/**
 * Per-client token buckets, bounded: at most `maxClients` buckets (LRU), so a flood from many
 * (spoofed) sources cannot grow memory, and a flood from one source is recorded only `burst`
 * times and then at `perSecond`.
 */
import { Lru } from '../../certs/lru.js';

interface Bucket {
  tokens: number;
  at: number;
}

export interface RateLimiter {
  allow(key: string, now?: number): boolean;
}

export function createRateLimiter(opts: { perSecond: number; burst: number; maxClients: number }): RateLimiter {
  const buckets = new Lru<string, Bucket>(opts.maxClients);
  return {
    allow(key, now = Date.now()) {
      const b = buckets.get(key) ?? { tokens: opts.burst, at: now };
      b.tokens = Math.min(opts.burst, b.tokens + ((now - b.at) / 1000) * opts.perSecond);
      b.at = now;
      const ok = b.tokens >= 1;
      if (ok) b.tokens -= 1;
      buckets.set(key, b);
      return ok;
    },
  };
}
