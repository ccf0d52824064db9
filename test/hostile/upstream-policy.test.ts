/**
 * The upstream policy, table-driven: which addresses and names the proxy refuses to dial by
 * default, and what --allow-upstream and --resolve open. (The real process is driven through
 * these refusals in pivot.test.ts; opening a private range there would dial beyond loopback.)
 */
import { describe, expect, it } from 'vitest';
import { createUpstreamPolicy } from '../../proxy/upstream-policy.js';

describe('forbidsAddress by default', () => {
  const policy = createUpstreamPolicy();
  it.each([
    ['127.0.0.1', true],
    ['::1', true],
    ['169.254.169.254', true],
    ['0.0.0.0', true],
    ['10.0.0.1', true],
    ['10.255.255.255', true],
    ['172.16.0.1', true],
    ['172.31.255.254', true],
    ['192.168.1.1', true],
    ['fc00::1', true],
    ['fd12:3456::1', true],
    ['::ffff:192.168.1.1', true],
    ['::ffff:10.1.2.3', true],
    // Just outside the private ranges: public, dialled.
    ['172.15.255.255', false],
    ['172.32.0.1', false],
    ['192.169.0.1', false],
    ['11.0.0.1', false],
    ['fe00::1', false],
    ['93.184.216.34', false],
    ['2606:2800:220:1::1', false],
  ])('%s -> %s', (address, forbidden) => {
    expect(policy.forbidsAddress(address)).toBe(forbidden);
  });
});

describe('refusal of what the request names', () => {
  const policy = createUpstreamPolicy({ mapped: new Set(['homeserver.lan']) });
  it.each([
    ['192.168.1.1', /private .*--allow-upstream/],
    ['[fd00::1]', /private/],
    ['localhost', /this machine/],
    ['example.org', undefined],
    ['homeserver.lan', undefined], // a --resolve name: the user's choice
  ])('%s', (host, expected) => {
    const why = policy.refusal(host);
    if (expected) expect(why).toMatch(expected);
    else expect(why).toBeUndefined();
  });
});

describe('--allow-upstream opens exactly the named range', () => {
  const policy = createUpstreamPolicy({ allow: ['192.168.1.0/24', 'fd00::/8'] });
  it.each([
    ['192.168.1.10', false],
    ['::ffff:192.168.1.10', false],
    ['fd00::10', false],
    ['192.168.2.10', true],
    ['10.0.0.1', true],
    ['fc00::1', true],
    ['127.0.0.1', true],
  ])('%s -> forbidden %s', (address, forbidden) => {
    expect(policy.forbidsAddress(address)).toBe(forbidden);
    expect(policy.refusal(address.includes(':') ? `[${address}]` : address) !== undefined).toBe(forbidden);
  });
});
