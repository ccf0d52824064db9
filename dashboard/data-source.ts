/**
 * What the dashboard needs from the store, as a small interface of its own: the server is coded
 * against this, and `store-adapter.ts` maps the real store onto it. Keeping the shapes here (and not
 * importing store row types into the routes) means a change in the SQL schema touches one file.
 *
 * Every captured string in these shapes is attacker-controlled: the UI renders them as text only.
 */

/** One exchange in the list and on the stream: the core/exchange-json shape plus what the table shows. */
export interface FlowItem {
  readonly id: number;
  readonly time: string;
  readonly session: string | null;
  readonly method: string;
  readonly url: string;
  readonly status: number | null;
  readonly category: string | null;
  readonly party: string | null;
  readonly rule: string | null;
  readonly severity: string;
  readonly verdict: string;
  readonly leaks: ReadonlyArray<{ kind: string; value: string; where: string; method: string }>;
  /** Client address (no port). */
  readonly client: string;
  readonly host: string;
  /** Path plus query. */
  readonly path: string;
  /** Distinct leak kinds, sorted. */
  readonly kinds: readonly string[];
  /** http, websocket, tls-failure, dns, stun. */
  readonly type: string;
  readonly firstParty: boolean;
  readonly durationMs: number | null;
  readonly error: string | null;
  /** WebSocket connection this message travelled on. */
  readonly connectionId?: number | null;
  readonly direction?: string | null;
  /** WebSocket messages: binary or text. */
  readonly binary?: boolean | null;
}

export interface FlowQuery {
  limit?: number;
  /** Only ids below this (paging backwards). */
  before?: number;
  /** Epoch ms bounds on the start time. */
  since?: number;
  until?: number;
  session?: string;
  party?: string;
  category?: string;
  kind?: string;
  host?: string;
  /** Exchange type: http, websocket, tls-failure, dns, stun. */
  type?: string;
  verdict?: string;
  q?: string;
}

/** What happened to a finding; see store/types.ts Outcome. */
export type Outcome = 'sent' | 'answered' | 'prevented' | 'held';

/** Party x host x kind x outcome, with the host's registrable domain. */
export interface ExposureCell {
  /** null: no rule matched the exchange. */
  readonly party: string | null;
  readonly category: string | null;
  readonly host: string;
  /** Registrable domain of the host (public suffix list), or the host itself (IP, localhost). */
  readonly domain: string;
  readonly kind: string;
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
  readonly sessions: readonly SessionInfo[];
}

export type ExportFormat = 'jsonl' | 'csv' | 'har';

export interface BodyView {
  readonly size: number;
  readonly truncated: boolean;
  readonly contentType: string | null;
  /** Decoded text when the body is text (JSON, form, plain); null for binary or not stored. */
  readonly text: string | null;
  /** Binary bodies: base64 of the stored bytes (capped by the store). */
  readonly base64: string | null;
  /** Whether the body was stored at all (`--store-bodies`). */
  readonly stored: boolean;
}

export interface PartView {
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: BodyView | null;
}

export interface WsMessageView {
  readonly id: number;
  readonly time: string;
  readonly direction: string;
  readonly binary: boolean;
  readonly text: string | null;
  readonly size: number;
  readonly kinds: readonly string[];
}

export interface FlowDetail {
  readonly flow: FlowItem;
  readonly request: PartView;
  readonly response: PartView | null;
  readonly notes: readonly string[];
  /** For WebSocket messages: the other messages of the same connection (bounded). */
  readonly websocket: { readonly connectionId: number; readonly messages: readonly WsMessageView[] } | null;
}

export interface SummaryCell {
  /** null: findings in exchanges no rule matched. */
  readonly party: string | null;
  readonly category: string | null;
  readonly kind: string;
  readonly count: number;
  /** Epoch ms. */
  readonly firstSeen: number;
  readonly lastSeen: number;
}

export interface TimelineBucket {
  /** Bucket start, epoch ms. */
  readonly t: number;
  readonly party: string | null;
  readonly requests: number;
  readonly leaks: number;
}

export interface SessionInfo {
  readonly id: number;
  readonly name: string;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly flows: number;
}

export interface RecorderStats {
  readonly queued: number;
  readonly written: number;
  readonly dropped: number;
  readonly failures: number;
  readonly lastError: string | null;
}

type MaybePromise<T> = T | Promise<T>;

export interface DataSource {
  listFlows(q: FlowQuery): MaybePromise<FlowItem[]>;
  getFlow(id: number): MaybePromise<FlowDetail | undefined>;
  /** Oldest-first flows with an id above `afterId`: the stream's fallback when its ring is too short. */
  flowsAfter(afterId: number, limit: number): MaybePromise<FlowItem[]>;
  summary(q: { session?: string }): MaybePromise<SummaryCell[]>;
  timeline(q: { since: number; until: number; session?: string; bucketMs: number }): MaybePromise<TimelineBucket[]>;
  sessions(): MaybePromise<SessionInfo[]>;
  recorderStats(): RecorderStats;
  /** Matching flows (paging ignored), counted up to `cap`. */
  countFlows(q: FlowQuery, cap: number): MaybePromise<number>;
  exposure(q: { session?: string }): MaybePromise<ExposureCell[]>;
  facets(): MaybePromise<Facets>;
  /** Stored counts for Health. */
  storeCounts(): MaybePromise<{ exchanges: number; tlsFailures: number }>;
  /** The flows matching `q` (newest first, at most `max`) in an export format, chunk by chunk. */
  exportFlows(q: FlowQuery, format: ExportFormat, max: number): Iterable<string>;
}
