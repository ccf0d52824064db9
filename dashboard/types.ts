/** Options and views handed to the dashboard by `leakwatch start`. */
import type { Logger } from '../core/log.js';
import type { DataSource } from './data-source.js';

export interface RuleView {
  readonly id: string;
  readonly pack: string;
  readonly party: string;
  readonly category: string;
  readonly severity: string;
  /** The effective action (an override's, if any). */
  readonly action: string;
  /** The pack's own action, when an override changed it. */
  readonly packAction?: string;
  readonly hosts: readonly string[];
  readonly paths: readonly string[];
  readonly methods: readonly string[];
  readonly why: string;
  readonly cite: string;
  readonly remediation: string;
  /** One sentence: what the rule matches and what it means. */
  readonly explain?: string;
  /** Hits recorded by the store (all time); the server adds `hitsSinceStart` from the stream. */
  readonly hits?: number;
  readonly source?: { readonly file: string; readonly line: number };
}

export interface RulesView {
  readonly packs: ReadonlyArray<{ readonly pack: string; readonly description: string; readonly file: string; readonly rules: number }>;
  readonly rules: readonly RuleView[];
  /** Rules or packs that could not be loaded: message names file:line:col and field. */
  readonly rejected: ReadonlyArray<{ readonly message: string; readonly file?: string; readonly line?: number; readonly col?: number; readonly field?: string }>;
  readonly mode?: string;
}

export interface HealthView {
  readonly version: string;
  readonly uptimeSeconds: number;
  /** Pipeline items waiting (submitted, not yet through every stage). */
  readonly queueDepth: number;
  /** Records the store could not keep. */
  readonly dropped: number;
  /** If the caller measures it; otherwise the server uses the stream's own rate. */
  readonly flowsPerSecond?: number;
  readonly extra?: Readonly<Record<string, string | number | boolean | null>>;
  /** Counters per listener: `engine`, `dns`, `stun` (when running), `refusedClients` (per listener). */
  readonly listeners?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export interface CaView {
  readonly certPem: string;
  readonly certDer: Buffer;
  readonly fingerprintSha256: string;
}

export interface DashboardOptions {
  /** Default 127.0.0.1. */
  host: string;
  /** Default 8081; 0 picks a free port. */
  port: number;
  token: string;
  data: DataSource;
  /** The public CA only: the key never reaches the dashboard. */
  ca: CaView;
  proxy: { host: string; port: number };
  rules: () => RulesView;
  health: () => HealthView;
  log: Logger;
  /**
   * Serve HTTPS with certificates from leakwatch's CA (used beyond loopback, so the token never
   * crosses the network in clear text): `issue(host)` returns a leaf for a name or IP literal.
   */
  tls?: { issue(host: string): { keyPem: string; certPem: string } };
  /** The client policy shared with every listener: a refused client's connection is closed at once. */
  allowClient?: (address: string) => boolean;
  /** Hold-and-ask and overrides; without it nothing is held and overrides are refused. */
  enforcement?: import('./enforcement.js').EnforcementApi;
  /** The privacy report of a session (GET /api/report, the Report view). */
  report?: import('../report/load.js').ReportSource;
  /**
   * `POST /api/purge`: erase a value from the store (store/purge.ts), and say which texts still
   * carry it, so the stream's memory forgets them too. Without it the route answers 404.
   */
  purge?: (value: string) => { report: Record<string, unknown>; carries: (text: string) => boolean };
  /** Stream tuning (tests lower these). */
  stream?: Partial<import('./hub.js').HubOptions & import('./stream.js').StreamLimits>;
}
