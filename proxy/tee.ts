/**
 * A passive, capped copy of body bytes. The proxy's own stream stages call `push` with each chunk
 * on its way through (see filters.ts); nothing here changes framing, buffering or timing of the
 * real body. A global onResponseData hook would force every response to chunked and break
 * HEAD/304 (http-mitm-proxy #170), so the tee lives inside our final filters instead.
 */
import { EMPTY_BODY, type BodyCapture } from '../core/exchange.js';

export class BodyTee {
  #chunks: Buffer[] = [];
  #kept = 0;
  #size = 0;

  constructor(readonly limit: number) {}

  push(chunk: Buffer): void {
    this.#size += chunk.length;
    const room = this.limit - this.#kept;
    if (room <= 0) return;
    // Copy: the chunk's memory belongs to the stream and may be a slice of a larger pooled buffer.
    const part = chunk.length <= room ? Buffer.from(chunk) : Buffer.from(chunk.subarray(0, room));
    this.#chunks.push(part);
    this.#kept += part.length;
  }

  get size(): number {
    return this.#size;
  }

  capture(): BodyCapture {
    if (this.#size === 0) return EMPTY_BODY;
    const bytes = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#kept);
    return { bytes, size: this.#size, truncated: this.#size > this.#kept };
  }
}

/** A capture of a buffer we already hold whole (local responses, rewritten bodies). */
export function captureOf(body: Buffer, limit: number): BodyCapture {
  if (body.length === 0) return EMPTY_BODY;
  const bytes = body.length <= limit ? body : Buffer.from(body.subarray(0, limit));
  return { bytes, size: body.length, truncated: body.length > limit };
}
