/**
 * A passive, capped copy of body bytes. The proxy's own stream stages call `push` with each chunk
 * on its way through (see filters.ts); nothing here changes framing, buffering or timing of the
 * real body. A global onResponseData hook would force every response to chunked and break
 * HEAD/304 (http-mitm-proxy 1.1.0), so the tee lives inside our final filters instead.
 */
import { EMPTY_BODY, type BodyCapture } from '../core/exchange.js';

const SHARE_FROM = 4096;

export class BodyTee {
  #chunks: Buffer[] = [];
  #kept = 0;
  #size = 0;

  constructor(readonly limit: number) {}

  push(chunk: Buffer): void {
    this.#size += chunk.length;
    const room = this.limit - this.#kept;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    // Small chunks are copied: they may be slices of a much larger read buffer we should not pin.
    // Large ones are kept by reference (the stream never reuses a chunk it emitted); capture()
    // copies them once, into one buffer, instead of once here and again there.
    this.#chunks.push(part.length < SHARE_FROM ? Buffer.from(part) : part);
    this.#kept += part.length;
  }

  get size(): number {
    return this.#size;
  }

  capture(): BodyCapture {
    if (this.#size === 0) return EMPTY_BODY;
    const only = this.#chunks.length === 1 ? this.#chunks[0]! : null;
    // A lone shared chunk is copied too, so the capture never aliases the stream's memory.
    const bytes = only && only.length < SHARE_FROM ? only : Buffer.concat(this.#chunks, this.#kept);
    return { bytes, size: this.#size, truncated: this.#size > this.#kept };
  }
}

/** A capture of a buffer we already hold whole (local responses, rewritten bodies). */
export function captureOf(body: Buffer, limit: number): BodyCapture {
  if (body.length === 0) return EMPTY_BODY;
  const bytes = body.length <= limit ? body : Buffer.from(body.subarray(0, limit));
  return { bytes, size: body.length, truncated: body.length > limit };
}
