import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { checkActionRules, validateStartFlags } from '../../cli/start-options.js';

describe('start options', () => {
  it('defaults to loopback, 8080/8081, observe, leaks bodies, 30 days', () => {
    const c = validateStartFlags({}, { LEAKWATCH_DATA_DIR: '/tmp/lw-x' });
    expect(c).toMatchObject({
      host: '127.0.0.1', port: 8080, dashboardHost: '127.0.0.1', dashboardPort: 8081,
      dataDir: '/tmp/lw-x', mode: 'observe', storeBodies: 'leaks', retentionDays: 30, builtinRules: true,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    [{ port: 'abc' }, /--port: "abc" is not a port number/],
    [{ port: '70000' }, /--port: 70000 is outside 1-65535/],
    [{ dashboardPort: '-1' }, /--dashboard-port/],
    [{ host: 'example.org' }, /--host: "example.org" is not an IP address/],
    [{ host: '0.0.0.0' }, /refusing to listen beyond loopback without --allow-client/],
    [{ host: '192.168.1.2' }, /open proxy/],
    [{ mode: 'panic' }, /--mode: "panic" must be one of observe, enforce/],
    [{ storeBodies: 'some' }, /--store-bodies/],
    [{ retentionDays: '0' }, /--retention-days: "0" must be a whole number >= 1/],
    [{ port: '9000', dashboardPort: '9000' }, /same as --port/],
  ])('rejects %j with one clear line', (flags, message) => {
    expect(() => validateStartFlags(flags)).toThrow(ConfigError);
    expect(() => validateStartFlags(flags)).toThrow(message);
  });

  it('allows a LAN address when --allow-client is given', () => {
    const c = validateStartFlags({ host: '0.0.0.0', allowClient: ['192.168.1.0/24'] });
    expect(c.host).toBe('0.0.0.0');
  });

  it('treats localhost as 127.0.0.1 (never ::1: the library hops to 0.0.0.0 internally)', () => {
    expect(validateStartFlags({ host: 'localhost' }).host).toBe('127.0.0.1');
  });
});

describe('start options: enforcement (issue 6)', () => {
  it('defaults: no blocks, no action overrides, 30 s hold timeout, no watching', () => {
    expect(validateStartFlags({})).toMatchObject({ blocks: [], actions: [], holdTimeoutMs: 30_000, watchRules: false });
  });

  it('parses --block HOST[/PATH-PREFIX], --action RULE=ACTION, --hold-timeout, --watch-rules', () => {
    const c = validateStartFlags({
      block: ['Tracker.Example', 'api.example.org/v1/collect/', '*.ads.example', '[::1]/x'],
      action: ['element.analytics.posthog=strip', 'matrix.identity.v2.lookup = hold'],
      holdTimeout: '5',
      watchRules: true,
    });
    expect(c.blocks).toEqual([
      { host: 'tracker.example', path: '' },
      { host: 'api.example.org', path: '/v1/collect' },
      { host: '*.ads.example', path: '' },
      { host: '::1', path: '/x' },
    ]);
    expect(c.actions).toEqual([
      { ruleId: 'element.analytics.posthog', action: 'strip' },
      { ruleId: 'matrix.identity.v2.lookup', action: 'hold' },
    ]);
    expect(c.holdTimeoutMs).toBe(5000);
    expect(c.watchRules).toBe(true);
  });

  it.each([
    [{ block: ['https://tracker.example/x'] }, /--block "https:\/\/tracker.example\/x": give HOST\[\/PATH\] without a scheme/],
    [{ block: ['bad host!'] }, /--block "bad host!": not a host name/],
    [{ block: ['a.example/x?y=1'] }, /--block "a.example\/x\?y=1": the path prefix must have no spaces, query or fragment/],
    [{ action: ['element.analytics.posthog'] }, /--action "element.analytics.posthog": expected RULE_ID=ACTION/],
    [{ action: ['element.analytics.posthog=explode'] }, /--action element.analytics.posthog=explode: the action must be one of log, block, neutralize, strip, hold/],
    [{ holdTimeout: '0' }, /--hold-timeout: "0" must be a whole number >= 1/],
    [{ holdTimeout: 'soon' }, /--hold-timeout/],
  ])('rejects %j with one clear line', (flags, message) => {
    expect(() => validateStartFlags(flags)).toThrow(ConfigError);
    expect(() => validateStartFlags(flags)).toThrow(message);
  });

  it('checkActionRules: an unknown rule id is one line naming it', () => {
    const c = validateStartFlags({ action: ['element.analytics.posthgo=block'] });
    const ids = new Set(['element.analytics.posthog']);
    expect(() => checkActionRules(c.actions, ids)).toThrow(ConfigError);
    expect(() => checkActionRules(c.actions, ids)).toThrow('--action element.analytics.posthgo=block: no rule "element.analytics.posthgo" in the loaded packs');
    expect(() => checkActionRules(validateStartFlags({ action: ['element.analytics.posthog=block'] }).actions, ids)).not.toThrow();
  });
});
