/**
 * `leakwatch report` and `leakwatch diff` over real captures: three leakwatch runs on one data dir
 * (capture.ts) — "default" (observe: identity lookup with contact hashes, integration manager,
 * analytics, an unruled host receiving an e-mail, a TLS failure, a DNS-only lookup, a STUN
 * request), "hardened" (enforce, vector.im blocked) and "extra" (observe, one more party). The
 * report is checked as JSON field by field, as Markdown, and as HTML in Chromium; the CLI runs
 * as a child process for exit codes and error messages.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportCommand, type ReportFlags } from '../../cli/report.js';
import { startLeakwatch } from '../../cli/start.js';
import { validateStartFlags } from '../../cli/start-options.js';
import { silentLogger } from '../../core/log.js';
import { VERSION } from '../../cli/version.js';
import { diffCommand } from '../../cli/diff.js';
import { exportCommand } from '../../cli/export.js';
import { ConfigError } from '../../core/errors.js';
import type { Party, Report } from '../../report/model.js';
import { openStore } from '../../store/db.js';
import { ensureBuilt, repoRoot } from '../helpers/built.js';
import { ANALYTICS_ID, capture, CONTACTS, ME, startWorld, type World } from './capture.js';

let w: World;
let scratch: string;
const counts: Record<string, number> = {};

beforeAll(async () => {
  ensureBuilt();
  scratch = mkdtempSync(join(tmpdir(), 'lw-report-out-'));
  w = await startWorld();
  counts['default'] = await capture(w, { session: 'default', mode: 'observe', extras: true });
  counts['hardened'] = await capture(w, { session: 'hardened', mode: 'enforce', block: ['vector.im'], action: ['element.integrations.scalar.register=strip', 'element.analytics.posthog=hold'] });
  counts['extra'] = await capture(w, { session: 'extra', mode: 'observe', newParty: true });
}, 90_000);

afterAll(async () => {
  await w?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** The report in-process, as the CLI builds it; stdout captured. */
function report(flags: Partial<ReportFlags>): string {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  reportCommand({ dataDir: w.dataDir, ...flags }, out, new PassThrough());
  return Buffer.concat(chunks).toString('utf8');
}
const json = (flags: Partial<ReportFlags>): Report => JSON.parse(report({ ...flags, format: 'json' })) as Report;

/** A command run in-process: its output, or the ConfigError message it would print. */
function inProcess(run: (out: PassThrough, err: PassThrough) => unknown): { result: unknown; stdout: string; error: string | null } {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  try {
    const result = run(out, new PassThrough());
    return { result, stdout: Buffer.concat(chunks).toString('utf8'), error: null };
  } catch (e: unknown) {
    if (!(e instanceof ConfigError)) throw e;
    return { result: undefined, stdout: '', error: e.message };
  }
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', [join(repoRoot, 'dist/cli/main.js'), ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function exportHar(session: string): Promise<string> {
  const file = join(scratch, `${session}.har`);
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await exportCommand({ dataDir: w.dataDir, format: 'har', session, out });
  writeFileSync(file, Buffer.concat(chunks));
  return file;
}

const party = (r: Report, pred: (p: Party) => boolean): Party => {
  const p = r.parties.find(pred);
  if (!p) throw new Error(`no such party in ${r.parties.map((x) => x.domain).join(', ')}`);
  return p;
};
const kind = (p: Party, k: string) => p.kinds.find((x) => x.kind === k);

describe('leakwatch report over a real capture', () => {
  it('recorded every exchange of the three sessions', () => {
    expect(counts).toEqual({ default: 8, hardened: 4, extra: 5 });
  });

  it('JSON: summary, each party, DNS-only, STUN-only, TLS failures and method, field by field', () => {
    const r = json({ session: ['default'], identity: [`email=${ME}`] });
    expect(r.schema).toBe('leakwatch-report/1');
    expect(r.title).toBe('default');
    expect(r.summary.parties).toBe(4);
    expect(r.parties.map((p) => p.domain)).toEqual(['vector.im', 'vector.im', 'element.io', 'tracker-example.net']);
    // worst first: high severity parties before the unruled one
    expect(r.summary.worst[0]).toMatchObject({ domain: 'vector.im', severity: 'high', kind: 'email', sent: 2, prevented: 0 });
    expect(r.summary.kinds.find((k) => k.kind === 'email')).toEqual({ kind: 'email', sent: 3, answered: 0, prevented: 0, total: 3 });
    expect(r.summary.kinds.find((k) => k.kind === 'mxid')).toEqual({ kind: 'mxid', sent: 0, answered: 1, prevented: 0, total: 1 });

    const is = party(r, (p) => p.categories.includes('identity-server'));
    expect(is.name).toMatch(/^identity server \(Sydent\)/);
    expect(is).toMatchObject({ domain: 'vector.im', hosts: ['vector.im'], severity: 'high', exchanges: 1, reached: 1 });
    // the two contact hashes (recognised as the declared contacts), the IS token, the answer's mxid
    expect(kind(is, 'email')).toEqual({ kind: 'email', sent: 2, answered: 0, prevented: 0, total: 2 });
    expect(kind(is, 'token')).toMatchObject({ sent: 1, answered: 0, prevented: 0 });
    expect(kind(is, 'mxid')).toMatchObject({ sent: 0, answered: 1, prevented: 0 });
    expect(is.clients).toEqual([{ address: '127.0.0.1', exchanges: 1 }]);
    expect(is.userAgents).toEqual([{ family: 'Firefox', exchanges: 1 }]);
    expect(is.rules).toHaveLength(1);
    expect(is.rules[0]!.id).toBe('matrix.identity.v2.lookup');
    expect(is.rules[0]!.why).toMatch(/hashes/);
    expect(is.rules[0]!.cite).toMatch(/IS-04/);
    expect(is.rules[0]!.remediation).toMatch(/m\.identity_server/);
    expect(is.firstSeen <= is.lastSeen).toBe(true);
    expect(is.evidence).toHaveLength(1);
    const ev = is.evidence[0]!;
    expect(ev).toMatchObject({ method: 'POST', url: 'https://vector.im/_matrix/identity/v2/lookup', status: 200, verdict: 'would-neutralize', client: '127.0.0.1' });
    // contacts were not declared at report time: masked; never the raw address anywhere
    const contacts = ev.findings.filter((f) => f.kind === 'email');
    expect(contacts.map((f) => [f.value, f.masked, f.where])).toEqual([
      ['bo***@ex***.com', true, 'request.body.addresses[0]'],
      ['ca***@ex***.net', true, 'request.body.addresses[1]'],
    ]);

    const im = party(r, (p) => p.categories.includes('integration-manager'));
    expect(im).toMatchObject({ domain: 'vector.im', hosts: ['scalar.vector.im'], reached: 1 });
    expect(im.userAgents).toEqual([{ family: 'Element Desktop', exchanges: 1 }]);
    expect(kind(im, 'server_name')).toMatchObject({ sent: 1 });
    expect(kind(im, 'token')).toMatchObject({ sent: 1, answered: 1 }); // OpenID token in, scalar_token back
    expect(im.rules[0]!.remediation).toMatch(/integrations_ui_url/);

    const an = party(r, (p) => p.categories.includes('analytics'));
    expect(an).toMatchObject({ domain: 'element.io', hosts: ['posthog.element.io'], severity: 'medium', reached: 1 });
    expect(kind(an, 'tracking_id')).toMatchObject({ sent: 2, prevented: 0 }); // would-block in observe mode: still sent
    expect(an.evidence[0]!.verdict).toBe('would-block');
    expect(JSON.stringify(an)).not.toContain(ANALYTICS_ID);

    const unruled = party(r, (p) => p.name === null);
    expect(unruled).toMatchObject({ domain: 'tracker-example.net', hosts: ['collect.tracker-example.net'], categories: [], severity: 'info', rules: [] });
    expect(unruled.kinds).toEqual([{ kind: 'email', sent: 1, answered: 0, prevented: 0, total: 1 }]);
    // the user's own address, declared with --identity: in clear
    expect(unruled.evidence[0]!.findings).toEqual([{ kind: 'email', value: ME, masked: false, where: 'request.body.user.email', method: 'known-value:plain' }]);

    expect(r.dnsOnly).toEqual([
      expect.objectContaining({ domain: 'riot.im', hosts: ['piwik.riot.im'], count: 1, clients: ['127.0.0.1'], kinds: [] }),
    ]);
    expect(r.stunOnly).toHaveLength(1);
    expect(r.stunOnly[0]).toMatchObject({ domain: 'google.com', hosts: ['stun.l.google.com'], clients: ['127.0.0.1'] });
    expect(r.stunOnly[0]!.kinds).toEqual([{ kind: 'ip_address', sent: 1, answered: 0, prevented: 0, total: 1 }]);
    expect(r.stunOnly[0]!.remediation).toMatch(/turn_uris/);
    expect(r.tlsFailures).toEqual([
      expect.objectContaining({ host: 'vector.im', count: 1, clients: ['127.0.0.1'], errors: ['LW_CLIENT_TLS_REJECTED'] }),
    ]);

    expect(r.method).toMatchObject({
      leakwatchVersion: VERSION,
      source: { type: 'store', sessions: ['default'] },
      mode: 'observe',
      exchanges: 8,
      redacted: false,
      evidencePerParty: 3,
    });
    expect(r.method.packs.map((p) => p.pack)).toEqual(expect.arrayContaining(['matrix']));
    expect(r.method.packs.every((p) => /^[0-9a-f]{16}$/.test(p.sha256))).toBe(true);
    expect(Date.parse(r.method.window.from!)).toBeLessThanOrEqual(Date.parse(r.method.window.to!));
  });

  it('--since/--until cut the window; several --session flags add up', () => {
    const all = json({ session: ['default'] });
    const first = party(all, (p) => p.categories.includes('identity-server')).evidence[0]!.time; // the first request
    const after = (iso: string): string => new Date(Date.parse(iso) + 1).toISOString();
    expect(json({ session: ['default'], since: all.method.window.from!, until: after(all.method.window.to!) }).method.exchanges).toBe(8);
    const cut = json({ session: ['default'], until: after(first) });
    expect(cut.method.exchanges).toBe(1);
    expect(cut.parties.map((p) => p.hosts)).toEqual([['vector.im']]);
    expect(() => json({ session: ['default'], since: after(all.method.window.to!) })).toThrow(/nothing to report: .* in that time window/);
    const both = json({ session: ['default', 'hardened'] });
    expect(both.title).toBe('default, hardened');
    expect(both.method).toMatchObject({ exchanges: 12, mode: 'mixed', source: { type: 'store', sessions: ['default', 'hardened'] } });
  });

  it('masks every value without --identity, and with --redact even declared ones', () => {
    for (const flags of [{}, { identity: [`email=${ME}`], redact: true }]) {
      const text = report({ session: ['default'], format: 'json', ...flags });
      for (const raw of [ME, ...CONTACTS, ANALYTICS_ID, 'shVYHBl7yTJBXRWIhGWypH-bXPozsgge']) expect(text).not.toContain(raw);
      expect(text).toContain('al***@ex***.org');
    }
    expect(json({ session: ['default'], redact: true }).method.redacted).toBe(true);
  });

  it('enforce mode: the blocked identity server is prevented, not sent; the mode says enforce', () => {
    const r = json({ session: ['hardened'] });
    expect(r.method.mode).toBe('enforce');
    const is = party(r, (p) => p.categories.includes('identity-server'));
    expect(is.reached).toBe(0);
    expect(is.kinds.every((k) => k.sent === 0 && k.prevented === k.total)).toBe(true);
    expect(kind(is, 'token')).toMatchObject({ sent: 0, prevented: 1 });
    expect(is.evidence[0]!.verdict).toBe('block');
    // the integration manager was stripped of its third-party headers: the User-Agent (made
    // generic) is prevented, the OpenID token in the body still went
    const im = party(r, (p) => p.categories.includes('integration-manager'));
    expect(im.evidence[0]!.verdict).toBe('strip');
    expect(kind(im, 'user_agent')).toMatchObject({ sent: 0, prevented: 1 });
    expect(kind(im, 'token')).toMatchObject({ sent: 1, answered: 1, prevented: 0 });
    expect(kind(im, 'server_name')).toMatchObject({ sent: 1, prevented: 0 });
    // analytics held, nobody answered: denied after the hold timeout, so prevented
    const an = party(r, (p) => p.categories.includes('analytics'));
    expect(an.evidence[0]!.verdict).toBe('hold');
    expect(an.reached).toBe(0);
    expect(an.kinds.length).toBeGreaterThan(0);
    expect(an.kinds.every((k) => k.sent === 0 && k.prevented === k.total)).toBe(true);
    // the unruled tracker is not touched by --block vector.im
    expect(party(r, (p) => p.name === null).kinds).toEqual([{ kind: 'email', sent: 1, answered: 0, prevented: 0, total: 1 }]);
  });

  it('Markdown: the same sections in the same order, values masked, settings as code', () => {
    const md = report({ session: ['default'], format: 'md' });
    const order = ['# Privacy report: default', '## <a id="summary"></a>Summary', '## <a id="third-parties"></a>Third parties',
      '### <a id="identity-server-', '## <a id="dns-only"></a>DNS-only contacts', '## <a id="stun-only"></a>STUN-only contacts',
      '## <a id="tls-failures"></a>TLS failures', '## <a id="method"></a>Method'];
    const at = order.map((s) => md.indexOf(s));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(md).toContain('4 third parties contacted');
    expect(md).toContain('| email | 2 | 0 | 0 |');
    expect(md).toMatch(/\*\*What stops it:\*\* .*`m\.identity_server`/);
    expect(md).toContain('**`bo***@ex***.com`** (masked)');
    expect(md).toContain('LW\\_CLIENT\\_TLS\\_REJECTED');
    expect(md).not.toContain(ME);
  });

  it('HTML in Chromium: every section and party present, no request while loading, no page error, readable without script', async () => {
    const file = join(scratch, 'default.html');
    report({ session: ['default'], out: file, format: 'html' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const url = pathToFileURL(file).href;
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
      for (const javaScriptEnabled of [true, false]) {
        const context = await browser.newContext({ javaScriptEnabled });
        const requests: string[] = [];
        const problems: string[] = [];
        await context.route('**/*', (route) => {
          if (route.request().url() === url) return route.continue();
          requests.push(route.request().url());
          return route.abort();
        });
        const page = await context.newPage();
        page.on('pageerror', (e) => problems.push(e.message));
        page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
        await page.goto(url, { waitUntil: 'load' });
        for (const id of ['summary', 'third-parties', 'dns-only', 'stun-only', 'tls-failures', 'method']) {
          expect(await page.locator(`section#${id} h2`).count(), id).toBe(1);
        }
        expect(await page.locator('section.party').count()).toBe(4);
        // every contents link lands on an element of the page
        const hrefs = await page.locator('nav a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
        expect(hrefs.length).toBe(10);
        for (const h of hrefs) expect(await page.locator(`[id="${h!.slice(1)}"]`).count(), h!).toBe(1);
        expect(await page.locator('section.party .stop').first().innerText()).toMatch(/What stops it:/);
        expect(await page.locator('mark').count()).toBeGreaterThan(5);
        expect(await page.locator('body').innerText()).not.toContain(ME);
        expect(await page.locator('script').count()).toBe(0);
        expect(requests).toEqual([]);
        expect(problems).toEqual([]);
        const pdf = javaScriptEnabled ? await page.pdf({ format: 'A4' }) : Buffer.alloc(1);
        expect(pdf.length).toBeGreaterThan(0);
        await context.close();
      }
      // Accessibility: axe-core, injected past the file's CSP (which, rightly, allows no script).
      const context = await browser.newContext({ bypassCSP: true });
      const page = await context.newPage();
      await page.goto(url);
      await page.addScriptTag({ path: join(repoRoot, 'node_modules/axe-core/axe.min.js') });
      const violations = await page.evaluate(async () => {
        const r = await (window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; nodes: unknown[] }> }> } }).axe.run();
        return r.violations.map((v) => `${v.id} (${v.nodes.length})`);
      });
      expect(violations).toEqual([]);
      await context.close();
    } finally {
      await browser?.close();
    }
  }, 60_000);

  it('a HAR export of the session reports the same parties and kinds', async () => {
    const har = await exportHar('default');
    const fromHar = JSON.parse(report({ har, format: 'json', identity: [`email=${ME}`, ...CONTACTS.map((c) => `email=${c}`)] })) as Report;
    const fromStore = json({ session: ['default'] });
    const shape = (r: Report) => r.parties.map((p) => [p.domain, p.name, p.kinds.filter((k) => k.sent > 0).map((k) => k.kind).sort()]);
    expect(shape(fromHar)).toEqual(shape(fromStore));
    expect(fromHar.method.source).toEqual({ type: 'har', file: 'default.har' });
  });
});

describe('leakwatch report: bad input is one clear line, exit 2, never a stack', () => {
  const bad = (flags: Partial<ReportFlags>, message: RegExp): void => {
    const r = inProcess((out, err) => reportCommand({ dataDir: w.dataDir, ...flags }, out, err));
    expect(r.error).toMatch(message);
    expect(r.stdout).toBe('');
  };

  it('the CLI: one line on stderr, exit 2, nothing on stdout', async () => {
    const r = await cli(['report', '--data-dir', w.dataDir, '--session', 'nope']);
    expect(r).toEqual({ code: 2, stdout: '', stderr: 'leakwatch: unknown session "nope" (known: extra, hardened, default)\n' });
  });

  it('unknown session, not a HAR, no data dir, a bad format, an empty session, a newer schema', () => {
    bad({ session: ['default', 'nope'] }, /^unknown session "nope" \(known: extra, hardened, default\)$/);
    const notHar = join(scratch, 'not.har');
    writeFileSync(notHar, '{"hello": 1}');
    bad({ har: notHar }, /not a HAR file \(log\.entries is missing\)/);
    writeFileSync(notHar, 'GIF89a');
    bad({ har: notHar }, /not JSON/);
    bad({ har: join(scratch, 'absent.har') }, /ENOENT/);
    bad({ dataDir: join(scratch, 'nowhere') }, /^no recordings: .* does not exist/);
    bad({ format: 'pdf' }, /^--format: "pdf" is not one of html, md, json$/);
    bad({ since: 'yesterday' }, /^--since: "yesterday" is not an ISO 8601 date/);
    bad({ until: '2020-01-01', since: '2021-01-01' }, /^--until must be later than --since$/);
    bad({ session: ['default'], since: '2000-01-01', until: '2000-01-02' }, /^nothing to report: session "default" has no recorded exchanges in that time window$/);

    // an empty session: opened, nothing recorded
    const emptyDir = join(scratch, 'empty');
    mkdirSync(emptyDir);
    const store = openStore(join(emptyDir, 'leakwatch.db'));
    store.openSession('quiet');
    store.close();
    bad({ dataDir: emptyDir, session: ['quiet'] }, /^nothing to report: session "quiet" has no recorded exchanges$/);

    // a data dir written by a newer leakwatch
    const db = new Database(join(emptyDir, 'leakwatch.db'));
    db.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
    db.close();
    bad({ dataDir: emptyDir }, /database schema v99 is newer than this leakwatch \(v\d+\); upgrade leakwatch to read it$/);
    // not a database at all
    writeFileSync(join(emptyDir, 'leakwatch.db'), 'not sqlite at all, just text that is long enough');
    bad({ dataDir: emptyDir }, /not a leakwatch database/);
  });

  it('an older schema is migrated (and said so), its rows kept', () => {
    const oldDir = join(scratch, 'old');
    mkdirSync(oldDir);
    const old = openStore(join(oldDir, 'leakwatch.db'), { migrateTo: 3 });
    // one exchange and one finding written as a v3 file holds them
    const id = (t: string, n: string): number => Number(old.db.prepare(`INSERT INTO ${t}_by_id (name) VALUES (?)`).run(n).lastInsertRowid);
    const session = Number(old.db.prepare('INSERT INTO sessions_by_id (name, started_at) VALUES (?, ?)').run('v3', 1_700_000_000_000).lastInsertRowid);
    old.db.prepare(`INSERT INTO exchanges VALUES (1, 1700000000000, 5, ?, ?, ?, 'POST', 'https', ?, 443, '/collect', NULL, 200, 0, 0, 0, 0, ?, ?, 0, 1)`)
      .run(session, id('types', 'http'), id('clients', '10.0.0.7'), id('hosts', 'old.tracker-example.net'), id('severities', 'info'), id('verdicts', 'allow'));
    const value = Number(old.db.prepare("INSERT INTO values_by_id (hash, shown, redacted) VALUES (x'00', 'x@example.org', 0)").run().lastInsertRowid);
    old.db.prepare('INSERT INTO findings (exchange_id, kind_id, value_id, where_id, method_id) VALUES (1, ?, ?, ?, ?)')
      .run(id('kinds', 'email'), value, id('wheres', 'request.body.email'), id('fmethods', 'pattern'));
    old.close();
    const notes: string[] = [];
    const err = new PassThrough();
    err.on('data', (c: Buffer) => notes.push(c.toString()));
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    reportCommand({ dataDir: oldDir, format: 'json' }, out, err);
    expect(notes.join('')).toMatch(/migrated the database from schema v3 to v\d+/);
    const r = JSON.parse(Buffer.concat(chunks).toString()) as Report;
    expect(r.parties).toHaveLength(1);
    expect(r.parties[0]).toMatchObject({ domain: 'tracker-example.net', name: null, clients: [{ address: '10.0.0.7', exchanges: 1 }] });
    expect(r.parties[0]!.kinds).toEqual([{ kind: 'email', sent: 1, answered: 0, prevented: 0, total: 1 }]);
  });
});

describe('leakwatch diff', () => {
  it('hardened (identity server blocked) vs default: its kinds are gone, exit 0', async () => {
    const r = await cli(['diff', '--data-dir', w.dataDir, '--format', 'json', 'default', 'hardened']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout) as import('../../report/diff.js').ReportDiff;
    expect(d.leaks).toBe(false);
    const is = d.parties.find((p) => p.domain === 'vector.im' && p.name?.startsWith('identity server'));
    expect(is).toMatchObject({ change: 'gone', learns: [], exchanges: { before: 1, after: 0 } });
    expect(is!.stopsLearning).toEqual(['email', 'token', 'user_agent']);
    expect(d.parties.some((p) => p.change === 'new' || p.learns.length > 0)).toBe(false);
    // the unchanged parties are not listed
    expect(d.parties.find((p) => p.domain === 'tracker-example.net')).toBeUndefined();

    const text = inProcess((out, err) => diffCommand('default', 'hardened', { dataDir: w.dataDir }, out, err));
    expect(text.result).toBe(0);
    expect(text.stdout).toMatch(/GONE identity server \(Sydent\).* — vector\.im\n {2}no longer learns: email, token, user_agent/);
    expect(text.stdout).toContain('hardened leaks nothing default did not.');
  }, 60_000);

  it('a session adding a party exits 1 and names it; md format too', async () => {
    const r = await cli(['diff', '--data-dir', w.dataDir, '--format', 'md', 'default', 'extra']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('**NEW no rule — newparty-example.org**');
    expect(r.stdout).toContain('newly learns: email');
    expect(r.stdout).toContain('**extra leaks something default did not.**');
  });

  it('bad input is a ConfigError (exit 2, not 1)', () => {
    const d = (a: string, b: string, format?: string) =>
      inProcess((out, err) => diffCommand(a, b, { dataDir: w.dataDir, ...(format ? { format } : {}) }, out, err));
    expect(d('default', 'missing').error).toMatch(/^B \(missing\): unknown session "missing"/);
    expect(d('default', 'extra', 'html').error).toBe('--format: "html" is not one of text, md, json');
  });

  it('a HAR against its own session: no difference', async () => {
    const har = await exportHar('extra');
    const identity = [ME, ...CONTACTS].map((v) => `email=${v}`);
    const r = inProcess((out, err) => diffCommand('extra', har, { dataDir: w.dataDir, identity }, out, err));
    expect(readFileSync(har).length).toBeGreaterThan(100);
    expect(r.stdout).toContain(`No difference between extra and ${har}.`);
    expect(r.result).toBe(0);
  });
});

describe('the dashboard: GET /api/report and the Report view', () => {
  it('serves the same report per session and format, 404 for an unknown session, and draws it with download buttons', async () => {
    const running = await startLeakwatch(validateStartFlags({ port: '0', dashboardPort: '0', dataDir: w.dataDir, session: 'viewer' }), silentLogger);
    let browser: Browser | undefined;
    try {
      const get = (q: string) => fetch(`${running.dashboardUrl}/api/report${q}`, { headers: { authorization: `Bearer ${running.token}` } });
      const r = await get('?session=default&format=json');
      expect(r.status).toBe(200);
      const viaApi = (await r.json()) as Report;
      const viaCli = json({ session: ['default'] });
      expect({ ...viaApi, generatedAt: '' }).toEqual({ ...viaCli, generatedAt: '' });
      const md = await get('?session=default&format=md&download=1');
      expect(md.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
      expect(md.headers.get('content-disposition')).toBe('attachment; filename="leakwatch-report-default.md"');
      const noDate = (t: string): string => t.replace(/Generated:\*\* .*/, '');
      expect(noDate(await md.text())).toBe(noDate(report({ session: ['default'], format: 'md' })));
      expect(await get('?session=nope')).toHaveProperty('status', 404);
      expect(await (await get('?session=viewer')).json()).toEqual({ error: 'nothing to report: session "viewer" has no recorded exchanges' });
      expect(await get('?format=pdf')).toHaveProperty('status', 400);
      expect((await fetch(`${running.dashboardUrl}/api/report`)).status).toBe(401);

      browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
      // bypassCSP: only so that axe-core can be injected below; the page's own code is unchanged.
      const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 }, bypassCSP: true })).newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
      await page.goto(`${running.dashboardUrl}/?token=${running.token}`);
      await page.goto(`${running.dashboardUrl}/#/report`);
      await page.waitForSelector('.report-bar select');
      await page.selectOption('.report-bar select', 'default');
      await page.waitForSelector('#report-method');
      expect(await page.locator('.report-party').count()).toBe(4);
      for (const id of ['report-summary', 'report-parties', 'report-dns', 'report-stun', 'report-tls', 'report-method']) expect(await page.locator(`#${id}`).count(), id).toBe(1);
      expect(await page.locator('.report-party').first().innerText()).toMatch(/What stops it:/);
      const hrefs = await page.locator('.report-bar a.download').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      expect(hrefs).toEqual(['html', 'md', 'json'].map((f) => `/api/report?format=${f}&download=1&session=default`));
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('.report-bar a.download >> nth=0')]);
      expect(download.suggestedFilename()).toBe('leakwatch-report-default.html');
      // What users see, at desktop and phone widths (test-artifacts/ is git-ignored).
      const art = join(process.cwd(), 'test-artifacts', 'report');
      mkdirSync(art, { recursive: true });
      await page.screenshot({ path: join(art, 'report-view-1440.png'), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: join(art, 'report-view-390.png'), fullPage: true });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390); // nothing wider than a phone
      await page.addScriptTag({ path: join(repoRoot, 'node_modules/axe-core/axe.min.js') });
      const violations = await page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run(el: Element): Promise<{ violations: Array<{ id: string; nodes: unknown[] }> }> } }).axe;
        return (await axe.run(document.querySelector('section.report')!)).violations.map((v) => `${v.id} (${v.nodes.length})`);
      });
      expect(violations).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await browser?.close();
      await running.close(500);
    }
  }, 60_000);
});
