/**
 * The privacy report as data: what `leakwatch report --format json` prints, and what the HTML and
 * Markdown renderers draw. One shape for all three, so they cannot disagree. The README documents
 * it field by field ("Report JSON"); bump REPORT_SCHEMA when a field changes meaning or goes.
 *
 * Times are ISO 8601 strings (UTC). Every value that left the machine is masked unless the user
 * declared it (`--identity`) and did not ask for `--redact`.
 */

export const REPORT_SCHEMA = 'leakwatch-report/1';

/** Findings of one kind to one party, split by what happened to them (exclusive). */
export interface KindCount {
  readonly kind: string;
  /** The party received it: the exchange reached the origin. */
  readonly sent: number;
  /** Found in what the party answered. */
  readonly answered: number;
  /** leakwatch stopped it (enforce mode: block, neutralize, a denied hold, a strip of that field). */
  readonly prevented: number;
  /** All findings of the kind, including those of exchanges that failed before reaching the origin. */
  readonly total: number;
}

export interface RuleInfo {
  readonly id: string;
  /** Empty when the rule is not in the loaded packs (a capture made with other packs). */
  readonly why: string;
  readonly cite: string;
  /** The setting that stops it. */
  readonly remediation: string;
}

export interface EvidenceFinding {
  readonly kind: string;
  /** The value as shown: masked unless declared (and not --redact). */
  readonly value: string;
  readonly masked: boolean;
  readonly where: string;
  readonly method: string;
}

export interface Evidence {
  readonly id: number;
  readonly time: string;
  readonly method: string;
  /** The URL with every leaked value in it masked as in `findings`. */
  readonly url: string;
  readonly status: number | null;
  readonly verdict: string;
  readonly client: string;
  readonly findings: readonly EvidenceFinding[];
}

export interface Party {
  /** Anchor: unique within the report, [a-z0-9-]. */
  readonly anchor: string;
  /** Registrable domain (eTLD+1; the host itself for IP literals and single labels). */
  readonly domain: string;
  /** The party's name from the rule; null when no rule matched. */
  readonly name: string | null;
  readonly categories: readonly string[];
  /** Worst severity of its exchanges. */
  readonly severity: string;
  readonly hosts: readonly string[];
  readonly exchanges: number;
  /** Exchanges that reached the origin. */
  readonly reached: number;
  readonly kinds: readonly KindCount[];
  readonly firstSeen: string;
  readonly lastSeen: string;
  /** Client addresses, most exchanges first. */
  readonly clients: ReadonlyArray<{ readonly address: string; readonly exchanges: number }>;
  /** User-Agent families in a sample of the party's exchanges, most frequent first. */
  readonly userAgents: ReadonlyArray<{ readonly family: string; readonly exchanges: number }>;
  readonly rules: readonly RuleInfo[];
  /** The exchanges with the most findings (at most the report's evidence limit). */
  readonly evidence: readonly Evidence[];
}

/** A party seen only as DNS lookups, or only as STUN requests. */
export interface Contact {
  readonly domain: string;
  readonly name: string | null;
  readonly hosts: readonly string[];
  readonly count: number;
  readonly kinds: readonly KindCount[];
  readonly clients: readonly string[];
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly remediation: string;
}

export interface TlsFailure {
  readonly host: string;
  readonly name: string | null;
  readonly count: number;
  readonly clients: readonly string[];
  /** Error codes (LW_*). */
  readonly errors: readonly string[];
  readonly firstSeen: string;
  readonly lastSeen: string;
}

export interface WorstFinding {
  readonly anchor: string;
  readonly domain: string;
  readonly name: string | null;
  readonly kind: string;
  readonly severity: string;
  readonly sent: number;
  readonly prevented: number;
}

export interface ReportMethod {
  readonly leakwatchVersion: string;
  readonly packs: ReadonlyArray<{ readonly pack: string; readonly version: number; readonly file: string; readonly sha256: string }>;
  /** Where the records came from: a store (with sessions) or a HAR file. */
  readonly source: { readonly type: 'store'; readonly sessions: readonly string[] } | { readonly type: 'har'; readonly file: string };
  readonly window: { readonly from: string | null; readonly to: string | null };
  /** The capture's mode as its verdicts show it: observe, enforce, both, or unknown (no rule acted). */
  readonly mode: 'observe' | 'enforce' | 'mixed' | 'unknown';
  readonly exchanges: number;
  readonly findings: number;
  readonly redacted: boolean;
  readonly evidencePerParty: number;
  readonly userAgentSample: number;
}

export interface Report {
  readonly schema: typeof REPORT_SCHEMA;
  readonly generatedAt: string;
  readonly title: string;
  readonly summary: {
    readonly parties: number;
    /** Every kind found, over all parties and contacts, most sent first; `sent > 0`: it left the machine. */
    readonly kinds: readonly KindCount[];
    readonly worst: readonly WorstFinding[];
  };
  readonly parties: readonly Party[];
  readonly dnsOnly: readonly Contact[];
  readonly stunOnly: readonly Contact[];
  readonly tlsFailures: readonly TlsFailure[];
  readonly method: ReportMethod;
}
