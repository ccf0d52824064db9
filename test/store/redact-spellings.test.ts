import { describe, expect, it } from 'vitest';
import { createScrubber } from '../../store/redact.js';

const EMAIL = 'alice.liddell@example.org';
const FR = '+33612345678';
const UK = '+447700900123';

describe('createScrubber: every spelling of a value', () => {
  const scrub = createScrubber([EMAIL, FR, UK]);
  const cases: Array<[string, string]> = [
    ['as is', `/lookup?a=${EMAIL}`],
    ['upper case', `/lookup?a=ALICE.LIDDELL@EXAMPLE.ORG`],
    ['mixed case', `x-who: Alice.Liddell@Example.Org`],
    ['percent-encoded, upper hex', `/q?a=alice.liddell%40example.org`],
    ['percent-encoded, lower hex', `/q?a=alice.liddell%40example.org`.replace('%40', '%40')],
    ['every character percent-encoded, lower hex', `/q?a=${[...Buffer.from(EMAIL)].map((b) => '%' + b.toString(16)).join('')}`],
    ['double-encoded', `/q?a=alice.liddell%2540example.org`],
    ['JSON-escaped', `{"a":"alice.liddell\\u0040example.org"}`],
    ['phone with spaces', 'tel +33 6 12 34 56 78 end'],
    ['phone with dashes', 'tel +33-6-12-34-56-78 end'],
    ['phone with dots and brackets', 'tel +33 (0)6.12.34.56.78 end'],
    ['phone national form', 'tel 06 12 34 56 78 end'],
    ['phone percent-encoded', '/q?msisdn=%2B33%206%2012%2034%2056%2078'],
    ['phone form-encoded', '/q?msisdn=%2B33+6+12+34+56+78'],
    ['UK phone the parser rejects', 'call +44 7700 900123 now'],
    ['UK phone, 00 prefix', 'call 0044 7700 900 123 now'],
  ];
  it.each(cases)('%s', (_name, text) => {
    const out = scrub(text);
    expect(out).toContain('[redacted]');
    const digits = out.replace(/\D/g, '');
    for (const d of ['612345678', '7700900123']) expect(digits.includes(d)).toBe(false);
    expect(out.toLowerCase().replace(/%40|%2540|\\u0040/g, '@')).not.toContain('liddell');
  });

  it('masks the whole field when a spelling it does not know still carries the value', () => {
    expect(scrub('who=a-l-i-c-e-.-l-i-d-d-e-l-l-@-e-x-a-m-p-l-e-.-o-r-g')).toBe('[redacted]');
  });

  it('leaves text without the values alone', () => {
    for (const t of ['/plain/path?x=1', 'bob@example.org', '+1 202 555 0100', '']) expect(scrub(t)).toBe(t);
  });
});
