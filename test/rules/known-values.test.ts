import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { formsOf, variantsOf } from '../../rules/detect/known-variants.js';
import {
  buildKnownValueIndex,
  findKnownInBytes,
  findKnownValues,
  knownValuesIn,
  parseIdentitiesText,
  parseIdentity,
} from '../../rules/known-values.js';

const h = (alg: string, s: string) => createHash(alg).update(s).digest();
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('parseIdentity', () => {
  it.each([
    ['email=alice@example.org', { kind: 'email', value: 'alice@example.org' }],
    ['phone=+447700900123', { kind: 'phone', value: '+447700900123' }],
    ['mxid=@alice:example.org', { kind: 'mxid', value: '@alice:example.org' }],
    [' display_name = Alice Liddell ', { kind: 'display_name', value: 'Alice Liddell' }],
  ])('%s', (spec, want) => {
    expect(parseIdentity(spec)).toEqual(want);
  });
  it.each([['nokind'], ['colour=red'], ['email=not-an-email'], ['phone=07700900123'], ['mxid=alice'], ['email=']])(
    'rejects %s with ConfigError',
    (spec) => {
      expect(() => parseIdentity(spec)).toThrow(ConfigError);
    },
  );
  it('parses a file with comments and blank lines, naming file:line on errors', () => {
    const text = '# me\nemail=alice@example.org\n\n  phone=+447700900123  \n# contacts\nemail=bob@example.com\n';
    expect(parseIdentitiesText(text, 'ids.txt')).toHaveLength(3);
    expect(() => parseIdentitiesText('email=a@b.c\nbogus line\n', 'ids.txt')).toThrow(/^ids\.txt:2: /);
  });
});

describe('known-value index', () => {
  const email = 'Alice@Example.org';
  const idx = buildKnownValueIndex([
    { kind: 'email', value: email },
    { kind: 'phone', value: '+447700900123' },
  ]);
  const lower = 'alice@example.org';
  const cases: Array<[string, string, string]> = [
    ['plain', email, 'plain'],
    ['lower', lower, 'lower'],
    ['url', encodeURIComponent(lower), 'url(lower)'],
    ['base64', b64(lower), 'base64(lower)'],
    ['base64url', Buffer.from(lower).toString('base64url'), 'base64url(lower)'],
    ['hex', Buffer.from(lower).toString('hex'), 'hex(lower)'],
    ['md5', h('md5', lower).toString('hex'), 'md5(lower)'],
    ['sha1', h('sha1', lower).toString('hex'), 'sha1(lower)'],
    ['sha256', h('sha256', lower).toString('hex'), 'sha256(lower)'],
    ['sha512', h('sha512', lower).toString('hex'), 'sha512(lower)'],
    ['SHA256', h('sha256', lower).toString('hex').toUpperCase(), 'upper(sha256(lower))'],
    ['sha256 base64', h('sha256', lower).toString('base64'), 'base64(sha256(lower))'],
    ['sha256 base64url', h('sha256', lower).toString('base64url'), 'base64url(sha256(lower))'],
    ['md5 base64', h('md5', lower).toString('base64'), 'base64(md5(lower))'],
    ['sha256(md5)', h('sha256', h('md5', lower).toString('hex')).toString('hex'), 'sha256(md5(lower))'],
    ['md5(sha256)', h('md5', h('sha256', lower).toString('hex')).toString('hex'), 'md5(sha256(lower))'],
    ['sha256 of plain', h('sha256', email).toString('hex'), 'sha256(plain)'],
    ['phone e164', '+447700900123', 'plain'],
    ['phone digits', '447700900123', 'digits'],
    ['phone 00', '00447700900123', 'intl00'],
    ['phone national', '07700900123', 'national'],
    ['phone sha256 digits', h('sha256', '447700900123').toString('hex'), 'sha256(digits)'],
  ];
  it.each(cases)('%s is indexed with its chain and found inside a body string', (_n, text, chain) => {
    expect(idx.long.some((v) => v.text === text.replace(/=+$/, '') && v.chain === chain)).toBe(true);
    const hits = findKnownValues(idx, `{"x":"pre ${text} post"}`);
    expect(hits).toHaveLength(1);
    // One hit per identity: the simplest chain present (`00447…` also contains the digits form).
    expect(hits[0]?.identity.kind).toBe(_n.startsWith('phone') ? 'phone' : 'email');
  });
  it('finds a padded base64 whole value and case-insensitive plain text', () => {
    expect(findKnownValues(idx, b64(lower)).map((v) => v.chain)).toEqual(['base64(lower)']);
    expect(findKnownValues(idx, 'ALICE@EXAMPLE.ORG')[0]?.identity.value).toBe(email);
  });
  it('finds short values only as whole tokens', () => {
    const short = buildKnownValueIndex([{ kind: 'display_name', value: 'Bob' }]);
    expect(findKnownValues(short, 'hi Bob!')).toHaveLength(1);
    expect(findKnownValues(short, 'Bobby')).toHaveLength(0);
  });
  it('searches binary bodies', () => {
    expect(findKnownInBytes(idx, Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(lower), Buffer.from([0xff])]))).toHaveLength(1);
  });
  it('the anchored scan finds what a plain includes() per variant finds (many identities, shared slots)', () => {
    const ids = [
      { kind: 'email' as const, value: 'alice@example.org' },
      { kind: 'email' as const, value: 'Bob.Smith@Example.com' },
      { kind: 'phone' as const, value: '+447700900123' },
      { kind: 'device_id' as const, value: 'a1b2c3d4e5f60718' },
      { kind: 'display_name' as const, value: 'Al' },
    ];
    const many = buildKnownValueIndex(ids);
    // Reference: the documented semantics, one includes() per variant, lowest rank per identity.
    const reference = (text: string): string[] => {
      const best = new Map<string, { rank: number; chain: string }>();
      const offer = (id: string, rank: number, chain: string): void => {
        const prev = best.get(id);
        if (!prev || rank < prev.rank) best.set(id, { rank, chain });
      };
      if (text.length >= 6) {
        for (const v of many.long) if (text.includes(v.text)) offer(v.identity.value, v.rank, v.chain);
        if (/[A-Z]/.test(text)) for (const v of many.folded) if (!best.has(v.identity.value) && text.toLowerCase().includes(v.text)) best.set(v.identity.value, { rank: v.rank, chain: v.chain });
      }
      const whole = many.exact.get(text);
      if (whole) best.set(whole.identity.value, { rank: whole.rank, chain: whole.chain });
      for (const tok of text.split(/[^\p{L}\p{N}_@+.-]+/u)) {
        const v = tok.length > 0 && tok.length < 6 ? many.exact.get(tok) : undefined;
        if (v && !best.has(v.identity.value)) best.set(v.identity.value, { rank: v.rank, chain: v.chain });
      }
      return [...best].map(([id, b]) => `${id} ${b.chain}`).sort();
    };
    const pieces = [...many.long.map((v) => v.text), ...many.folded.map((v) => v.text.toUpperCase()), 'Al', 'xx', '%40', 'alic', '4477', '\n', ' '];
    let seed = 7;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) >>> 16) % n;
    for (let i = 0; i < 400; i++) {
      let text = '';
      for (let j = rnd(4); j >= 0; j--) {
        const p = pieces[rnd(pieces.length)]!;
        // Sometimes only a part of a variant: near-misses must not count.
        text += rnd(3) === 0 ? p.slice(rnd(p.length)) : p;
      }
      const got = findKnownValues(many, text).map((v) => `${v.identity.value} ${v.chain}`).sort();
      expect(got, text).toEqual(reference(text));
    }
  });
  it('knownValuesIn answers like findKnownValues, per index, read-only, past its bound and for long text', () => {
    const a = buildKnownValueIndex([{ kind: 'email', value: 'alice@example.org' }]);
    const b = buildKnownValueIndex([{ kind: 'device_id', value: 'DEVICE1234' }]);
    const texts = ['alice@example.org', 'x DEVICE1234 y', 'ALICE@EXAMPLE.ORG', 'nothing', `${'z'.repeat(300)}alice@example.org`];
    for (let round = 0; round < 2; round++) {
      for (const t of texts) {
        expect(knownValuesIn(a, t), t).toEqual(findKnownValues(a, t));
        expect(knownValuesIn(b, t), t).toEqual(findKnownValues(b, t));
      }
    }
    expect(Object.isFrozen(knownValuesIn(a, 'alice@example.org'))).toBe(true);
    for (let i = 0; i < 10_000; i++) knownValuesIn(a, `n${i}`);
    for (const t of texts) expect(knownValuesIn(a, t), t).toEqual(findKnownValues(a, t));
    expect(knownValuesIn(buildKnownValueIndex([]), 'alice@example.org')).toEqual([]);
  });
  it('nothing for unrelated text and an empty index', () => {
    expect(findKnownValues(idx, 'nothing to see here at all')).toEqual([]);
    expect(findKnownValues(buildKnownValueIndex([]), lower)).toEqual([]);
  });
  it('case-folds emails like the 3PID appendix (Strauß → strauss)', () => {
    expect(formsOf('email', 'Strauß@Example.com').map((f) => f.text)).toContain('strauss@example.com');
  });
  it('labels every variant with a chain', () => {
    const vs = variantsOf({ name: 'lower', text: lower }, false);
    expect(new Set(vs.map((v) => v.chain)).size).toBe(vs.length);
  });
});
