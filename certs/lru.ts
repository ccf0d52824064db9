/**
 * A tiny least-recently-used cache on top of Map. Map iterates in insertion order, so re-inserting
 * a key on every hit moves it to the "newest" end and the first key is always the eldest. Used for
 * leaf certificates here and, by the proxy, for TLS SecureContexts: both are cheap to rebuild but
 * must not grow without bound when a client connects to many hosts.
 */
export class Lru<K, V> {
  readonly #map = new Map<K, V>();

  constructor(readonly maxSize: number) {
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`Lru maxSize must be a positive integer, got ${maxSize}`);
  }

  get size(): number {
    return this.#map.size;
  }

  /** Returns the value and marks it most recently used. */
  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value === undefined) return undefined;
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  /** Looks without touching the recency order. */
  peek(key: K): V | undefined {
    return this.#map.get(key);
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  set(key: K, value: V): this {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.maxSize) {
      const eldest = this.#map.keys().next();
      if (eldest.done) break;
      this.#map.delete(eldest.value);
    }
    return this;
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
  }

  /** Keys from least to most recently used. */
  keys(): IterableIterator<K> {
    return this.#map.keys();
  }
}
