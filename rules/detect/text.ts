/** Small string helpers shared by the detectors. */

const PCT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;

/**
 * Percent-decodes every valid %XX run and leaves broken ones as they are (decodeURIComponent
 * throws on the whole string for one bad escape; traffic is full of those).
 */
export function percentDecodeLenient(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(PCT_RUN, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}
