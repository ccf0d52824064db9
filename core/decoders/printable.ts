/**
 * Printable runs of a binary payload (what `strings` does): binary WebSocket frames such as
 * LiveKit's protobuf signalling carry ICE candidates, identities and SDP as plain strings between
 * field tags, so the text detectors can read them without a schema.
 */

/** Shortest run kept; shorter ones are mostly field tags and lengths that happen to be printable. */
export const MIN_RUN = 6;
/** Runs kept per payload at most. */
export const MAX_RUNS = 10_000;

export function printableRuns(bytes: Uint8Array, minRun = MIN_RUN, maxRuns = MAX_RUNS): string[] {
  const out: string[] = [];
  let start = -1;
  const end = bytes.length;
  for (let i = 0; i <= end && out.length < maxRuns; i++) {
    const b = i < end ? bytes[i]! : 0;
    const printable = (b >= 0x20 && b < 0x7f) || b === 0x09;
    if (printable) {
      if (start === -1) start = i;
    } else if (start !== -1) {
      if (i - start >= minRun) out.push(Buffer.from(bytes.buffer, bytes.byteOffset + start, i - start).toString('latin1'));
      start = -1;
    }
  }
  return out;
}
