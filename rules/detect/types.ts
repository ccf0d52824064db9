/** What every generic detector returns: a kind, the value, and its offsets in the scanned string. */
import type { Kind } from '../../core/vocabulary.js';

export interface Candidate {
  readonly kind: Kind;
  readonly value: string;
  /** Offsets into the string the detector scanned (after percent-decoding, where it decodes). */
  readonly start: number;
  readonly end: number;
  /** Extra location detail appended to `where` (e.g. `#srflx` for ICE candidates). */
  readonly detail?: string;
}
