/** Pure pieces of the dashboard, table-driven: rule Markdown, party colours, the who-knows-what pivot, curl, domains. */
import { describe, expect, it } from 'vitest';
import { domainOf } from '../../dashboard/store-adapter.js';
// Browser modules: plain ESM with no DOM use at import time.
import { hhmm, OTHER_COLOR, partyColor } from '../../dashboard/public/colors.js';
import { wireValues } from '../../dashboard/public/highlight.js';
import { mdSpans } from '../../dashboard/public/md.js';
import { curlOf } from '../../dashboard/public/views/detail.js';
import { pivot } from '../../dashboard/public/views/who.js';

describe('rule text: code spans only', () => {
  it.each([
    ['plain text', [{ text: 'plain text', code: false }]],
    ['set `m.identity_server` off', [{ text: 'set ', code: false }, { text: 'm.identity_server', code: true }, { text: ' off', code: false }]],
    ['one ` backtick', [{ text: 'one ` backtick', code: false }]],
    ['`<b>x</b>`', [{ text: '<b>x</b>', code: true }]],
  ])('%s', (text, want) => expect(mdSpans(text)).toEqual(want));
});

describe('party colours and clock', () => {
  it('one colour per party, whatever the order it is seen in', () => {
    expect(partyColor('Tracker Co')).toBe(partyColor('Tracker Co'));
    expect(partyColor(null)).toBe(OTHER_COLOR);
    expect(new Set(['a', 'b', 'c', 'd', 'e', 'f'].map(partyColor)).size).toBeGreaterThan(2);
  });
  it('24-hour clock', () => {
    const d = new Date(2026, 0, 1, 21, 5);
    expect(hhmm(d.getTime())).toBe('21:05');
  });
});

describe('who knows what pivot', () => {
  const cell = (party: string | null, host: string, domain: string, kind: string, outcome: string, count: number) =>
    ({ party, category: party ? 'analytics' : null, host, domain, kind, outcome, count, firstSeen: 1, lastSeen: 2 });
  it('rows by party and domain; outcomes kept apart; learned first', () => {
    const { rows, kinds } = pivot([
      cell('Tracker Co', 'collect.trackerco.net', 'trackerco.net', 'email', 'prevented', 3),
      cell(null, 't.leaky.net', 'leaky.net', 'email', 'sent', 5),
      cell(null, 'u.leaky.net', 'leaky.net', 'mxid', 'sent', 1),
      cell(null, 'other.org', 'other.org', 'email', 'sent', 2),
      cell('Beacon', 'a.one.org', 'one.org', 'email', 'sent', 1),
      cell('Beacon', 'b.two.com', 'two.com', 'email', 'sent', 1),
      cell('Beacon', 'b.two.com', 'two.com', 'email', 'answered', 4),
    ]);
    expect(rows.map((r) => [r.party, r.domain, [...r.hosts].sort()])).toEqual([
      [null, 'leaky.net', ['t.leaky.net', 'u.leaky.net']],
      [null, 'other.org', ['other.org']],
      ['Beacon', 'two.com', ['b.two.com']],
      ['Beacon', 'one.org', ['a.one.org']],
      ['Tracker Co', 'trackerco.net', ['collect.trackerco.net']],
    ]);
    expect(rows[4]!.cells.get('email')).toMatchObject({ sent: 0, prevented: 3 });
    expect(rows[2]!.cells.get('email')).toMatchObject({ sent: 1, answered: 4 });
    expect(kinds).toEqual(['email', 'mxid']);
  });
});

describe('copy as curl', () => {
  it('quotes for a POSIX shell and drops hop-by-hop headers', () => {
    const f = { method: 'POST', url: "https://x.example/a?b=it's" };
    const req = { headers: [['Host', 'x.example'], ['Content-Type', 'application/json'], ['Connection', 'close']] as Array<[string, string]>, body: { text: '{"a":"b\'c"}' } };
    expect(curlOf(f, req)).toBe(`curl -X 'POST' 'https://x.example/a?b=it'\\''s' -H 'Content-Type: application/json' --data-raw '{"a":"b'\\''c"}'`);
  });
});

describe('registrable domains', () => {
  it.each([
    ['collect.trackerco.net', 'trackerco.net'],
    ['a.b.example.co.uk', 'example.co.uk'],
    ['127.0.0.1', '127.0.0.1'],
    ['localhost', 'localhost'],
    ['user.github.io', 'user.github.io'],
  ])('%s -> %s', (host, want) => expect(domainOf(host)).toBe(want));
});

describe('body marks: what the body holds where a finding was resolved', () => {
  const body = JSON.stringify({ addresses: ['HASH-A', 'HASH-B'], pepper: 'p', nested: { list: [{ v: 'x@y.z' }] } });
  it.each([
    ['a resolved hash is marked as the hash', [{ kind: 'email', value: 'bob@example.com', where: 'request.body.addresses[0]' }], ['HASH-A']],
    ['an unresolved hash is its own value: nothing extra', [{ kind: 'contact_hash', value: 'HASH-B', where: 'request.body.addresses[1]' }], []],
    ['nested paths', [{ kind: 'email', value: 'other', where: 'request.body.nested.list[0].v' }], ['x@y.z']],
    ['another body is not looked into', [{ kind: 'email', value: 'bob', where: 'response.body.addresses[0]' }], []],
    ['a path that is not there', [{ kind: 'email', value: 'bob', where: 'request.body.missing[3]' }], []],
    ['headers are not bodies', [{ kind: 'token', value: 't', where: 'request.header.authorization' }], []],
  ])('%s', (_name, leaks, want) => expect(wireValues(leaks, 'request.body', body)).toEqual(want));
  it('a body that is not JSON gives nothing', () => {
    expect(wireValues([{ where: 'request.body.a', value: 'v' }], 'request.body', 'a=1&b=2')).toEqual([]);
  });
});
