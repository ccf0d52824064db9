import { describe, expect, it } from 'vitest';
// The browser module is plain ESM with no DOM use at import time.
import { hostText } from '../../dashboard/public/format.js';

describe('hostText: host names shown escaped unless plain LDH or an IP literal', () => {
  it.each([
    ['vector.im', 'vector.im', false],
    ['_matrix._tcp.example.org', '_matrix._tcp.example.org', false],
    ['127.0.0.1', '127.0.0.1', false],
    ['::1', '::1', false],
    ['', '', false],
    ['evil\u202Egro.example', 'evil\\u{202E}gro.example', true],
    ['a\u001b[2Jb.test', 'a\\u{1B}[2Jb.test', true],
    ['pаypal.com', 'p\\u{430}ypal.com', true], // Cyrillic а
    ['a\u200Fb.test', 'a\\u{200F}b.test', true],
    ['x y.test', 'x\\u{20}y.test', true],
  ])('%j', (host, text, odd) => {
    expect(hostText(host)).toEqual({ text, odd });
  });
});
