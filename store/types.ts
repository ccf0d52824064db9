/**
 * Row types of the store's read side (store/queries.ts), shared with the dashboard and the CLI.
 * Times are epoch milliseconds (numbers); the dashboard formats them. Strings that the rules
 * leave empty (no rule matched) are null, never ''.
 */
import type { ExchangeKind } from '../core/exchange.js';
import type { Category, Kind, Severity, Verdict } from '../core/vocabulary.js';

/** Filters of `listFlows`. Every field is optional; they combine with AND. */
export interface FlowFilter {
  /** Page size, default 100, at most 1000. */
  readonly limit?: number;
  /** Id cursor: only flows with id < before (pass the last id of the previous page). */
  readonly before?: number;
  /** Inclusive lower / exclusive upper bound on the exchange's start time (ms). */
  readonly since?: number;
  readonly until?: number;
  /** Session id. */
  readonly session?: number;
  /** Party name as the rule packs spell it. */
  readonly party?: string;
  readonly category?: Category;
  /** Only flows with at least one finding of this kind. */
  readonly kind?: Kind;
  /** Exact host (lower-case, no port). */
  readonly host?: string;
  /** Exchange type (http, websocket, tls-failure, dns, stun). */
  readonly type?: string;
  /** Verdict, e.g. block or would-block. */
  readonly verdict?: string;
  /** Free text, case-insensitive substring of host, path, url, party or a finding's stored value. */
  readonly q?: string;
}

/**
 * What happened to a finding: `sent` the party received it; `answered` it came back in a response
 * (the party told it to you); `prevented` leakwatch blocked or neutralized the request; `held`
 * the user was asked (the exchange says whether it was then allowed or denied).
 */
export type Outcome = 'sent' | 'answered' | 'prevented' | 'held';

/** One cell of the party x host x kind x outcome aggregate. */
export interface ExposureCell {
  readonly party: string | null;
  readonly category: Category | null;
  readonly host: string;
  readonly kind: Kind;
  readonly outcome: Outcome;
  readonly count: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

export interface Facets {
  readonly parties: readonly string[];
  readonly categories: readonly string[];
  readonly kinds: readonly string[];
  readonly types: readonly string[];
  readonly verdicts: readonly string[];
  readonly sessions: readonly SessionRow[];
}

/** One line of the flow list. */
export interface FlowRow {
  readonly id: number;
  /** Exchange start (ms). */
  readonly time: number;
  readonly durationMs: number;
  readonly sessionId: number | null;
  readonly session: string | null;
  /** What was recorded: an HTTP exchange, one WebSocket message, a TLS failure, DNS, STUN. */
  readonly type: ExchangeKind;
  /** Client address (no port). */
  readonly client: string;
  readonly method: string;
  readonly url: string;
  readonly host: string;
  /** Path plus query as sent on the wire. */
  readonly path: string;
  /** null when there was no response (error, blocked before forwarding). */
  readonly status: number | null;
  /** Error code (LW_*) when the exchange failed. */
  readonly error: string | null;
  readonly category: Category | null;
  readonly party: string | null;
  readonly rule: string | null;
  readonly severity: Severity;
  readonly verdict: Verdict;
  /** Distinct finding kinds, in vocabulary order. */
  readonly kinds: readonly Kind[];
  readonly leakCount: number;
  /** Sent to one of the user's own homeservers (`--first-party`). */
  readonly firstParty: boolean;
}

export interface FindingRow {
  readonly kind: Kind;
  /** The raw value, or its masked preview when recorded with --redact (`redacted: true`). */
  readonly value: string;
  readonly redacted: boolean;
  /** Hex HMAC-SHA256 of the raw value under the install's key: `purge --value` accepts it. */
  readonly hash: string;
  readonly where: string;
  readonly method: string;
}

/** A stored body, decompressed. `bytes` is at most the body cap; `size` is what passed. */
export interface BodyView {
  readonly bytes: Buffer;
  readonly size: number;
  readonly truncated: boolean;
}

/** One flow with everything recorded about it (`getFlow`). */
export interface FlowDetail extends FlowRow {
  readonly findings: readonly FindingRow[];
  readonly listener: string | null;
  readonly request: {
    readonly httpVersion: string;
    readonly headers: ReadonlyArray<readonly [string, string]>;
    /** null when bodies were not stored (--store-bodies, --redact, purge, no body). */
    readonly body: BodyView | null;
  };
  readonly response: {
    readonly statusMessage: string;
    readonly headers: ReadonlyArray<readonly [string, string]>;
    readonly body: BodyView | null;
  } | null;
  readonly websocket: {
    readonly connectionId: number;
    readonly direction: 'send' | 'receive';
    readonly binary: boolean;
    readonly data: BodyView | null;
  } | null;
  readonly errorMessage: string | null;
  /** Decode notes from the audit stage. */
  readonly notes: readonly string[];
  /** What enforcement did to the request (block, strip, hold, …), when anything. */
  readonly applied: { readonly verdict: string; readonly ruleId: string | null; readonly detail?: string } | null;
  /** false when the headers were removed (purge) or never stored. */
  readonly hasDetails: boolean;
}

/** One cell of the party x kind summary. */
export interface SummaryCell {
  readonly party: string | null;
  readonly category: Category | null;
  readonly kind: Kind;
  readonly count: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

/** One timeline bucket for one party (null: no rule matched). */
export interface TimelinePoint {
  /** Bucket start (ms). */
  readonly t: number;
  readonly party: string | null;
  readonly flows: number;
  readonly leaks: number;
}

export interface SessionRow {
  readonly id: number;
  readonly name: string;
  readonly startedAt: number;
  readonly flows: number;
}

export interface StoreHealth {
  readonly schemaVersion: number;
  readonly exchanges: number;
  readonly findings: number;
  readonly bodies: number;
  readonly sessions: number;
  readonly oldest: number | null;
  readonly newest: number | null;
  /** Recorded TLS failures (a client that does not trust the CA, or pins certificates). */
  readonly tlsFailures: number;
  readonly fileBytes: number;
  readonly walBytes: number;
}
