// Defect: `--passthrough ../x`, `--first-party "a b"` and `--session ""` were accepted: a typo in a
// passthrough or first-party host silently matched nothing. Fix: cli/start-options.ts validates
// them (host name, IP or *.suffix; a port is ignored for first-party; a non-empty session name).
import { expect, it } from 'vitest';
import { validateStartFlags } from '../../../cli/start-options.js';
import { ConfigError } from '../../../core/errors.js';

it.each([
  [{ passthrough: ['../x'] }, /--passthrough: "\.\.\/x"/],
  [{ passthrough: ['https://a.test/'] }, /--passthrough/],
  [{ passthrough: ['a.test:443'] }, /--passthrough/],
  [{ firstParty: ['a b'] }, /--first-party: "a b"/],
  [{ firstParty: [''] }, /--first-party/],
  [{ session: '  ' }, /--session: the name must not be empty/],
])('%j is refused', (raw, msg) => {
  expect(() => validateStartFlags(raw)).toThrow(ConfigError);
  expect(() => validateStartFlags(raw)).toThrow(msg);
});

it('valid forms still pass', () => {
  const c = validateStartFlags({ passthrough: ['bank.example', '*.apple.com', '10.0.0.1'], firstParty: ['Matrix.org:8448', '*.example.org'], session: 'run 1' });
  expect(c.passthrough).toEqual(['bank.example', '*.apple.com', '10.0.0.1']);
  expect(c.firstParty).toEqual(['matrix.org:8448', '*.example.org']);
  expect(c.session).toBe('run 1');
});
