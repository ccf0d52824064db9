/** The report's pure stages, table-driven: masking, strip matching, UA families, escaping, diff. */
import { describe, expect, it } from 'vitest';
import { maskOpaque, maskUrl, registrableDomain, showValue } from '../../report/build.js';
import { diffReports } from '../../report/diff.js';
import type { Contact, Party, Report } from '../../report/model.js';
import { esc, highlight } from '../../report/render-html.js';
import { mdCode, mdText } from '../../report/render-md.js';
import { codeSpans, plural } from '../../report/text.js';
import { userAgentFamily } from '../../report/user-agent.js';
import { strippedField } from '../../store/report-queries.js';

describe('strippedField: did the strip remove the field the finding was in?', () => {
  const cases: Array<[string, string, string, boolean]> = [
    ['stripped headers Referer, Origin', 'request.header.referer', 'structural', true],
    ['stripped headers Referer, Origin', 'request.header.user-agent', 'structural', false],
    ['stripped headers Referer; query utm_source', 'request.query.utm_source', 'structural', true],
    ['stripped query a', 'request.query.ab', 'structural', false],
    ['stripped json initial_device_display_name', 'request.body.initial_device_display_name', 'structural', true],
    ['stripped json properties.$current_url', 'request.body.properties.$current_url', 'structural', true],
    ['stripped json batch[*].properties.distinct_id', 'request.body.batch[3].properties.distinct_id', 'structural', true],
    ['stripped json batch[*].properties.distinct_id', 'request.body.batch[3].properties.other', 'structural', false],
    ['stripped known entries of addresses[*]', 'request.body.addresses[1]', 'known-value:matrix-is-sha256(lower)', true],
    ['stripped known entries of addresses[*]', 'request.body.addresses[1]', 'structural', false],
    ['stripped 2 values from this message', 'websocket.data.content.body', 'structural', true],
    ['stripped 0 values from this message', 'websocket.data.content.body', 'structural', false],
    ['nothing to strip', 'request.header.referer', 'structural', false],
    ['held, then allowed by you (once)', 'request.header.referer', 'structural', false],
  ];
  it.each(cases)('%s / %s / %s -> %s', (detail, where, method, want) => {
    expect(strippedField(detail, where, method)).toBe(want);
  });
});

describe('showValue and maskUrl', () => {
  const o = { declared: new Set(['alice@example.org']), redact: false };
  it.each([
    ['email', 'alice@example.org', false, o, 'alice@example.org', false],
    ['email', 'Alice@Example.org', false, o, 'Alice@Example.org', false],
    ['email', 'bob@example.com', false, o, 'bo***@ex***.com', true],
    ['email', 'alice@example.org', false, { ...o, redact: true }, 'al***@ex***.org', true],
    ['email', 'al***@ex***.org', true, o, 'al***@ex***.org', true],
    ['token', 'syt_abcdefghijklmnop', false, o, 'syt***nop', true],
  ] as const)('%s %s (stored masked: %s)', (kind, value, stored, opts, shown, masked) => {
    expect(showValue(kind, value, stored, opts)).toEqual({ value: shown, masked });
  });

  it.each([
    ['https://t.example/c?email=bob%40example.com&x=1', [['bob@example.com', 'bo***']], 'https://t.example/c?email=bo***&x=1'],
    ['https://t.example/u/bob@example.com/p', [['bob@example.com', 'bo***']], 'https://t.example/u/bo***/p'],
    ['https://t.example/?q=a+b+c', [['a b c', '***']], 'https://t.example/?q=***'],
    ['https://t.example/?id=abcdef&id2=abcdefgh', [['abcdef', 'a***'], ['abcdefgh', 'b***']], 'https://t.example/?id=a***&id2=b***'],
    ['https://t.example/?k=ab', [['ab', '***']], 'https://t.example/?k=ab'],
  ] as const)('%s', (url, pairs, want) => {
    expect(maskUrl(url, pairs)).toBe(want);
  });
});

describe('maskOpaque', () => {
  it.each([
    ['response.body.mappings.LJwSazmv46n0hlMlsb_iYxI0_HXEqy_yj6Jm636cdT8', 'response.body.mappings.LJw***dT8'],
    ['request.body.initial_device_display_name', 'request.body.initial_device_display_name'],
    ['request.body.addresses[0]', 'request.body.addresses[0]'],
    ['response.body.devices.0123456789abcdef0123.keys', 'response.body.devices.012***123.keys'],
  ])('maskOpaque(%s)', (where, want) => expect(maskOpaque(where)).toBe(want));
});

describe('names', () => {
  it.each([
    ['scalar.vector.im', 'vector.im'],
    ['a.b.example.co.uk', 'example.co.uk'],
    ['stun.l.google.com', 'google.com'],
    ['127.0.0.1', '127.0.0.1'],
    ['localhost', 'localhost'],
  ])('registrableDomain(%s) = %s', (host, want) => expect(registrableDomain(host)).toBe(want));

  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Element/1.11.85 Chrome/130.0.0.0 Electron/33.2.0 Safari/537.36', 'Element Desktop'],
    ['Element/1.6.20 (Google Pixel 7; Android 14; UP1A; Flavour GooglePlay; MatrixAndroidSdk2 1.6.20)', 'Element Android'],
    ['Element/1.11.4 (iPhone; iOS 17.1; Scale/3.00)', 'Element iOS'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36', 'Chrome/Chromium'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15', 'Safari'],
    ['Synapse/1.120.0', 'Synapse'],
    ['curl/8.11.1', 'curl'],
    ['node', 'Node.js'],
    ['SomeBot/2 (+https://x)', 'other (SomeBot)'],
    ['', 'other'],
  ])('userAgentFamily(%s) = %s', (ua, want) => expect(userAgentFamily(ua)).toBe(want));

  it.each([
    [1, 'third party', '1 third party'],
    [2, 'third party', '2 third parties'],
    [0, 'kind', '0 kinds'],
  ] as const)('plural(%d, %s)', (n, w, want) => expect(plural(n, w)).toBe(want));
});

describe('escaping: captured strings never become markup', () => {
  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['"a" & \'b\'', '&quot;a&quot; &amp; &#39;b&#39;'],
  ])('esc(%s)', (s, want) => expect(esc(s)).toBe(want));

  it.each([
    ['a|b', 'a\\|b'],
    ['[x](http://evil)', '\\[x\\](http://evil)'],
    ['<img src=x>', '&lt;img src=x>'],
    ['*bold* _it_ `code`', '\\*bold\\* \\_it\\_ \\`code\\`'],
    ['line\nbreak', 'line break'],
  ])('mdText(%s)', (s, want) => expect(mdText(s)).toBe(want));

  it.each([
    ['plain', '`plain`'],
    ['a`b', '``a`b``'],
    ['`x`', '`` `x` ``'],
  ])('mdCode(%s)', (s, want) => expect(mdCode(s)).toBe(want));

  it('highlight marks the shown values, escaping around them', () => {
    expect(highlight('POST https://t/<x>?e=bo***&f=bo***', ['bo***'])).toBe('POST https://t/&lt;x&gt;?e=<mark>bo***</mark>&amp;f=<mark>bo***</mark>');
    expect(highlight('a<b', [])).toBe('a&lt;b');
  });

  it('codeSpans keeps rule text code spans', () => {
    expect(codeSpans('set `turn_uris` and `x`.')).toEqual([
      { code: false, text: 'set ' }, { code: true, text: 'turn_uris' }, { code: false, text: ' and ' }, { code: true, text: 'x' }, { code: false, text: '.' },
    ]);
  });
});

describe('diffReports', () => {
  const p = (domain: string, name: string | null, reached: number, sent: Record<string, number>): Party => ({
    anchor: domain, domain, name, categories: [], severity: 'info', hosts: [domain], exchanges: reached, reached,
    kinds: Object.entries(sent).map(([kind, n]) => ({ kind, sent: n, answered: 0, prevented: 0, total: n })),
    firstSeen: '', lastSeen: '', clients: [], userAgents: [], rules: [], evidence: [],
  });
  const r = (parties: Party[], stunOnly: Contact[] = []): Report => ({ parties, dnsOnly: [], stunOnly } as unknown as Report);

  it.each([
    ['identical', [p('a.org', 'A', 1, { email: 1 })], [p('a.org', 'A', 1, { email: 1 })], false, []],
    ['a new party', [], [p('b.org', null, 1, {})], true, [['new', 'b.org', [], []]]],
    ['a party blocked in B', [p('a.org', 'A', 2, { email: 2 })], [p('a.org', 'A', 0, {})], false, [['gone', 'a.org', [], ['email']]]],
    ['a kind newly learned', [p('a.org', 'A', 1, { email: 1 })], [p('a.org', 'A', 1, { email: 1, phone: 1 })], true, [['changed', 'a.org', ['phone'], []]]],
    ['only counts changed', [p('a.org', 'A', 1, { email: 1 })], [p('a.org', 'A', 3, { email: 3 })], false, [['changed', 'a.org', [], []]]],
    ['same domain, another party name', [p('a.org', 'A', 1, {})], [p('a.org', 'A2', 1, {})], true, [['new', 'a.org', [], []], ['gone', 'a.org', [], []]]],
  ] as const)('%s', (_name, a, b, leaks, want) => {
    const d = diffReports(r([...a]), r([...b]), { a: 'A', b: 'B' });
    expect(d.leaks).toBe(leaks);
    expect(d.parties.map((x) => [x.change, x.domain, x.learns, x.stopsLearning])).toEqual(want);
  });

  it('a STUN-only contact counts as a party', () => {
    const stun = { domain: 'google.com', name: 'STUN', hosts: ['stun.l.google.com'], count: 1, kinds: [{ kind: 'ip_address', sent: 1, answered: 0, prevented: 0, total: 1 }], clients: [], firstSeen: '', lastSeen: '', remediation: '' };
    const d = diffReports(r([]), r([], [stun]), { a: 'A', b: 'B' });
    expect(d.leaks).toBe(true);
    expect(d.parties[0]).toMatchObject({ change: 'new', domain: 'google.com', learns: ['ip_address'] });
  });
});
