/**
 * `leakwatch start` options: raw flag values in, one validated, frozen config out. Every problem is
 * a ConfigError whose message is one line naming the flag and what is wrong, so the CLI can print it
 * and exit non-zero before anything is started (fastify's initial-config-validation pattern).
 */
import { isIP } from 'node:net';
import { ConfigError } from '../core/errors.js';
import { parseCidrList } from '../proxy/cidr.js';
import { defaultDataDir } from '../core/paths.js';
import { normalizeHost, parseHostPattern } from '../core/hosts.js';
import { ACTIONS, isAction, type Action } from '../core/vocabulary.js';
import { parseHostPath } from '../rules/decide.js';

export interface RawStartFlags {
  port?: string;
  host?: string;
  dashboardPort?: string;
  dashboardHost?: string;
  dataDir?: string;
  resolve?: string[];
  upstreamCa?: string[];
  passthrough?: string[];
  allowClient?: string[];
  allowUpstream?: string[];
  firstParty?: string[];
  identity?: string[];
  identities?: string[];
  rules?: string[];
  builtinRules?: boolean;
  mode?: string;
  block?: string[];
  action?: string[];
  holdTimeout?: string;
  watchRules?: boolean;
  session?: string;
  redact?: boolean;
  dnsPort?: string;
  dnsHost?: string;
  dnsUpstream?: string;
  dnsInterceptAddress?: string;
  transparentHttpsPort?: string;
  transparentHttpPort?: string;
  stunPort?: string[];
  storeBodies?: string;
  retentionDays?: string;
  captureLimit?: string;
  headersTimeout?: string;
  connectTimeout?: string;
  idleTimeout?: string;
  wsMaxPayload?: string;
  /** Deprecated alias of idleTimeout. */
  upstreamTimeout?: string;
  maxConnections?: string;
}

export interface DnsConfig {
  readonly host: string;
  readonly port: number;
  readonly upstream: { readonly host: string; readonly port: number };
  /** What ruled names resolve to: leakwatch's own address (IPv4). */
  readonly interceptAddress: string;
}

export interface StartConfig {
  readonly port: number;
  readonly host: string;
  readonly dashboardPort: number;
  readonly dashboardHost: string;
  readonly dataDir: string;
  readonly resolve: readonly string[];
  readonly upstreamCa: readonly string[];
  readonly passthrough: readonly string[];
  readonly allowClient: readonly string[];
  /** --allow-upstream CIDRs: loopback/link-local/private/unspecified ranges the proxy may dial anyway. */
  readonly allowUpstream: readonly string[];
  readonly firstParty: readonly string[];
  readonly identity: readonly string[];
  readonly identities: readonly string[];
  readonly rules: readonly string[];
  readonly builtinRules: boolean;
  readonly mode: 'observe' | 'enforce';
  /** --block HOST[/PATH-PREFIX] (path '' = the whole host). */
  readonly blocks: ReadonlyArray<{ readonly host: string; readonly path: string }>;
  /** --action RULE_ID=ACTION; rule ids are checked against the loaded packs by checkActionRules. */
  readonly actions: ReadonlyArray<{ readonly ruleId: string; readonly action: Action }>;
  /** --hold-timeout S, in ms: a held request with no answer is denied after this. */
  readonly holdTimeoutMs: number;
  /** --watch-rules: reload the packs when their files change. */
  readonly watchRules: boolean;
  readonly session: string | null;
  readonly redact: boolean;
  /** The DNS server; null when --dns-port is not given. */
  readonly dns: DnsConfig | null;
  /** --dns-upstream: also used to resolve every upstream name (the system resolver may point at us). */
  readonly dnsUpstream: { readonly host: string; readonly port: number } | null;
  /** Transparent listeners on --host; null = off. */
  readonly transparentHttpsPort: number | null;
  readonly transparentHttpPort: number | null;
  /** STUN sensor ports on --host; empty = off. */
  readonly stunPorts: readonly number[];
  readonly storeBodies: 'none' | 'leaks' | 'all';
  readonly retentionDays: number;
  readonly captureLimit: number;
  /** Seconds -> ms a client has to send a request head (slowloris bound). */
  readonly headersTimeoutMs: number;
  readonly maxConnections: number;
  /** Seconds -> ms to open an upstream connection. */
  readonly connectTimeoutMs: number;
  /** Seconds -> ms of upstream silence before a 504 (or a cut mid-body). */
  readonly idleTimeoutMs: number;
  /** Bytes: the largest WebSocket message relayed. */
  readonly wsMaxPayload: number;
}

export function parsePort(flag: string, value: string | undefined, fallback: number, allowZero = true): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,5}$/.test(value)) throw new ConfigError(`${flag}: "${value}" is not a port number`);
  const n = Number(value);
  if (n > 65535 || (n === 0 && !allowZero)) throw new ConfigError(`${flag}: ${n} is outside 1-65535`);
  return n;
}

export function parseListenHost(flag: string, value: string | undefined): string {
  const v = value ?? '127.0.0.1';
  if (v === 'localhost') return '127.0.0.1';
  if (isIP(v) === 0) throw new ConfigError(`${flag}: "${v}" is not an IP address to listen on`);
  return v;
}

/** Loopback listen addresses need no --allow-client; anything else would be an open proxy. */
export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address === '::ffff:127.0.0.1';
}

function parseCount(flag: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new ConfigError(`${flag}: "${value}" must be a whole number >= ${min}`);
  return Number(value);
}

/** --idle-timeout, or its deprecated alias --upstream-timeout (not both: which one would win?). */
function idleTimeoutMs(raw: RawStartFlags): number {
  if (raw.upstreamTimeout !== undefined && raw.idleTimeout !== undefined) throw new ConfigError('--upstream-timeout is the old name of --idle-timeout: give only --idle-timeout');
  if (raw.upstreamTimeout !== undefined) return parseCount('--upstream-timeout', raw.upstreamTimeout, 120, 1) * 1000;
  return parseCount('--idle-timeout', raw.idleTimeout, 120, 1) * 1000;
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`${flag}: "${value}" must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** `IP` or `IP:PORT` or `[IPv6]:PORT` (port default 53): a resolver, never a name (no loops). */
export function parseResolverAddress(flag: string, value: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(value) ?? (isIP(value) === 6 ? null : /^([^:]+)(?::(\d+))?$/.exec(value));
  const host = m ? m[1]! : value;
  if (isIP(host) === 0) throw new ConfigError(`${flag}: "${value}" must be an IP address with an optional port, like 9.9.9.9 or 9.9.9.9:53`);
  return { host: host.toLowerCase(), port: m?.[2] === undefined ? 53 : parsePort(flag, m[2], 53, false) };
}

const optionalPort = (flag: string, value: string | undefined): number | null => (value === undefined ? null : parsePort(flag, value, 0));

/** --dns-*, --transparent-*, --stun-port. Ports 0 (tests) never clash. */
function validateInterception(raw: RawStartFlags, host: string, tcpPorts: ReadonlyArray<readonly [string, number]>) {
  const dnsPort = optionalPort('--dns-port', raw.dnsPort);
  const dnsUpstream = raw.dnsUpstream === undefined ? null : parseResolverAddress('--dns-upstream', raw.dnsUpstream);
  const transparentHttpsPort = optionalPort('--transparent-https-port', raw.transparentHttpsPort);
  const transparentHttpPort = optionalPort('--transparent-http-port', raw.transparentHttpPort);
  const stunPorts = (raw.stunPort ?? []).map((p) => parsePort('--stun-port', p, 0));
  const tcp: Array<readonly [string, number]> = [...tcpPorts];
  for (const [flag, p] of [['--transparent-https-port', transparentHttpsPort], ['--transparent-http-port', transparentHttpPort], ['--dns-port', dnsPort]] as const) {
    if (p === null || p === 0) continue;
    const clash = tcp.find(([, q]) => q === p);
    if (clash) throw new ConfigError(`${flag} ${p}: same as ${clash[0]}`);
    tcp.push([flag, p]);
  }
  const udp = new Set<number>(dnsPort ? [dnsPort] : []);
  for (const p of stunPorts) {
    if (p === 0) continue;
    if (udp.has(p)) throw new ConfigError(`--stun-port ${p}: given twice or same as --dns-port`);
    udp.add(p);
  }
  let dns: DnsConfig | null = null;
  if (dnsPort !== null) {
    if (!dnsUpstream) {
      throw new ConfigError('--dns-port needs --dns-upstream IP[:PORT]: the resolver that answers every name leakwatch does not intercept');
    }
    const dnsHost = raw.dnsHost === undefined ? host : parseListenHost('--dns-host', raw.dnsHost);
    const wildcard = host === '0.0.0.0' || host === '::';
    const intercept = raw.dnsInterceptAddress ?? (wildcard || isIP(host) !== 4 ? undefined : host);
    if (intercept === undefined) {
      throw new ConfigError(`--dns-port needs --dns-intercept-address IPv4 when --host is ${host}: the address of this machine that clients should reach for intercepted names`);
    }
    if (isIP(intercept) !== 4 || intercept === '0.0.0.0') {
      throw new ConfigError(`--dns-intercept-address: "${intercept}" must be this machine's IPv4 address`);
    }
    dns = { host: dnsHost, port: dnsPort, upstream: dnsUpstream, interceptAddress: intercept };
  } else if (raw.dnsHost !== undefined || raw.dnsInterceptAddress !== undefined) {
    throw new ConfigError(`${raw.dnsHost !== undefined ? '--dns-host' : '--dns-intercept-address'} needs --dns-port`);
  }
  return { dns, dnsUpstream, transparentHttpsPort, transparentHttpPort, stunPorts };
}

/** `--block HOST[/PATH-PREFIX]`. */
export function parseBlockFlag(value: string): { host: string; path: string } {
  const r = parseHostPath(value);
  if (typeof r === 'string') throw new ConfigError(`--block ${r}`);
  return r;
}

/** `--action RULE_ID=ACTION`. */
export function parseActionFlag(value: string): { ruleId: string; action: Action } {
  const eq = value.indexOf('=');
  const ruleId = eq > 0 ? value.slice(0, eq).trim() : '';
  const action = eq > 0 ? value.slice(eq + 1).trim() : '';
  if (ruleId === '') throw new ConfigError(`--action "${value}": expected RULE_ID=ACTION, like element.analytics.posthog=block`);
  if (!isAction(action)) throw new ConfigError(`--action ${ruleId}=${action}: the action must be one of ${ACTIONS.join(', ')}`);
  return { ruleId, action };
}

/** Every --action must name a loaded rule (a typo would silently enforce nothing). */
export function checkActionRules(actions: StartConfig['actions'], ruleIds: ReadonlySet<string>): void {
  for (const a of actions) {
    if (!ruleIds.has(a.ruleId)) throw new ConfigError(`--action ${a.ruleId}=${a.action}: no rule "${a.ruleId}" in the loaded packs`);
  }
}

/**
 * `--passthrough` / `--first-party` values: a host name, an IP literal or `*.suffix` (first-party
 * may carry a port, which is ignored). A typo used to be accepted and silently matched nothing.
 */
function hostList(flag: string, values: readonly string[], portAllowed: boolean): string[] {
  for (const raw of values) {
    const v = raw.trim();
    const parsed = parseHostPattern(portAllowed && !v.startsWith('*.') ? normalizeHost(v) : v);
    if (v === '' || typeof parsed === 'string') {
      throw new ConfigError(`${flag}: "${raw}" must be a host name, an IP address or *.suffix${portAllowed ? ' (a port is ignored)' : ''}`);
    }
  }
  return [...values];
}

/** `--allow-upstream CIDR`: checked now, so a typo is one clear line before anything starts. */
function allowUpstreamList(values: readonly string[]): string[] {
  parseCidrList('--allow-upstream', values);
  return [...values];
}

function sessionName(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (value.trim() === '') throw new ConfigError('--session: the name must not be empty');
  return value;
}

export function validateStartFlags(raw: RawStartFlags, env: NodeJS.ProcessEnv = process.env): StartConfig {
  const host = parseListenHost('--host', raw.host);
  const dashboardHost = parseListenHost('--dashboard-host', raw.dashboardHost);
  const allowClient = raw.allowClient ?? [];
  if (!isLoopback(host) && allowClient.length === 0) {
    throw new ConfigError(
      `--host ${host}: refusing to listen beyond loopback without --allow-client CIDR (that would be an open proxy on your network)`,
    );
  }
  if (!isLoopback(dashboardHost) && allowClient.length === 0) {
    throw new ConfigError(
      `--dashboard-host ${dashboardHost}: refusing to serve the dashboard beyond loopback without --allow-client CIDR (it holds everything leakwatch recorded)`,
    );
  }
  const port = parsePort('--port', raw.port, 8080);
  const dashboardPort = parsePort('--dashboard-port', raw.dashboardPort, 8081);
  if (port !== 0 && port === dashboardPort) throw new ConfigError(`--dashboard-port ${dashboardPort}: same as --port`);
  const interception = validateInterception(raw, host, [['--port', port], ['--dashboard-port', dashboardPort]]);
  if (interception.dns && !isLoopback(interception.dns.host) && allowClient.length === 0) {
    throw new ConfigError(`--dns-host ${interception.dns.host}: refusing to listen beyond loopback without --allow-client CIDR (that would be an open resolver)`);
  }
  return Object.freeze({
    ...interception,
    port,
    host,
    dashboardPort,
    dashboardHost,
    dataDir: raw.dataDir ?? defaultDataDir(env),
    resolve: raw.resolve ?? [],
    upstreamCa: raw.upstreamCa ?? [],
    passthrough: hostList('--passthrough', raw.passthrough ?? [], false),
    allowClient,
    allowUpstream: allowUpstreamList(raw.allowUpstream ?? []),
    firstParty: hostList('--first-party', raw.firstParty ?? [], true).map((h) => h.toLowerCase()),
    identity: raw.identity ?? [],
    identities: raw.identities ?? [],
    rules: raw.rules ?? [],
    builtinRules: raw.builtinRules ?? true,
    mode: oneOf('--mode', raw.mode, ['observe', 'enforce'] as const, 'observe'),
    blocks: (raw.block ?? []).map(parseBlockFlag),
    actions: (raw.action ?? []).map(parseActionFlag),
    holdTimeoutMs: parseCount('--hold-timeout', raw.holdTimeout, 30, 1) * 1000,
    watchRules: raw.watchRules ?? false,
    session: sessionName(raw.session),
    redact: raw.redact ?? false,
    storeBodies: oneOf('--store-bodies', raw.storeBodies, ['none', 'leaks', 'all'] as const, 'leaks'),
    retentionDays: parseCount('--retention-days', raw.retentionDays, 30, 1),
    captureLimit: parseCount('--capture-limit', raw.captureLimit, 1024 * 1024, 0),
    headersTimeoutMs: parseCount('--headers-timeout', raw.headersTimeout, 20, 1) * 1000,
    maxConnections: parseCount('--max-connections', raw.maxConnections, 2048, 1),
    connectTimeoutMs: parseCount('--connect-timeout', raw.connectTimeout, 10, 1) * 1000,
    idleTimeoutMs: idleTimeoutMs(raw),
    wsMaxPayload: parseCount('--ws-max-payload', raw.wsMaxPayload, 16 * 1024 * 1024, 125),
  });
}
