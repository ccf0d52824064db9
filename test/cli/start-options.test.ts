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

describe('start options: DNS, transparent listeners, STUN', () => {
  it('are all off by default', () => {
    expect(validateStartFlags({})).toMatchObject({ dns: null, dnsUpstream: null, transparentHttpsPort: null, transparentHttpPort: null, stunPorts: [] });
  });

  it('DNS: host defaults to --host, intercept address to --host, upstream port to 53', () => {
    const c = validateStartFlags({ dnsPort: '5353', dnsUpstream: '9.9.9.9', transparentHttpsPort: '8443', transparentHttpPort: '8880', stunPort: ['3478', '19302'] });
    expect(c.dns).toEqual({ host: '127.0.0.1', port: 5353, upstream: { host: '9.9.9.9', port: 53 }, interceptAddress: '127.0.0.1' });
    expect(c.dnsUpstream).toEqual({ host: '9.9.9.9', port: 53 });
    expect(c).toMatchObject({ transparentHttpsPort: 8443, transparentHttpPort: 8880, stunPorts: [3478, 19302] });
  });

  it('DNS on 0.0.0.0 with an explicit intercept address, upstream with a port or in brackets', () => {
    const c = validateStartFlags({
      host: '0.0.0.0', allowClient: ['192.168.1.0/24'], dnsPort: '53', dnsUpstream: '127.0.0.1:5300', dnsInterceptAddress: '192.168.1.10',
    });
    expect(c.dns).toEqual({ host: '0.0.0.0', port: 53, upstream: { host: '127.0.0.1', port: 5300 }, interceptAddress: '192.168.1.10' });
    expect(validateStartFlags({ dnsUpstream: '[2620:fe::fe]:53' }).dnsUpstream).toEqual({ host: '2620:fe::fe', port: 53 });
    expect(validateStartFlags({ dnsUpstream: '2620:fe::fe' }).dnsUpstream).toEqual({ host: '2620:fe::fe', port: 53 });
    // --dns-upstream alone: upstream names are resolved there, no DNS server runs
    expect(validateStartFlags({ dnsUpstream: '9.9.9.9' }).dns).toBeNull();
  });

  it.each([
    [{ dnsPort: '53' }, /^--dns-port needs --dns-upstream IP\[:PORT\]/],
    [{ dnsPort: '53', dnsUpstream: 'dns.quad9.net' }, /--dns-upstream: "dns.quad9.net" must be an IP address/],
    [{ dnsPort: '53', dnsUpstream: '9.9.9.9:0' }, /--dns-upstream: 0 is outside 1-65535/],
    [{ dnsPort: 'x', dnsUpstream: '9.9.9.9' }, /--dns-port: "x" is not a port number/],
    [{ host: '0.0.0.0', allowClient: ['10.0.0.0/8'], dnsPort: '53', dnsUpstream: '9.9.9.9' }, /--dns-port needs --dns-intercept-address/],
    [{ dnsPort: '53', dnsUpstream: '9.9.9.9', dnsInterceptAddress: 'leakwatch.lan' }, /--dns-intercept-address: "leakwatch.lan" must be/],
    [{ dnsPort: '53', dnsUpstream: '9.9.9.9', dnsHost: '0.0.0.0' }, /--dns-host 0.0.0.0: .*--allow-client.*open resolver/],
    [{ dnsHost: '127.0.0.1' }, /--dns-host needs --dns-port/],
    [{ dnsInterceptAddress: '127.0.0.1' }, /--dns-intercept-address needs --dns-port/],
    [{ transparentHttpsPort: '8080' }, /--transparent-https-port 8080: same as --port/],
    [{ transparentHttpsPort: '443', transparentHttpPort: '443' }, /--transparent-http-port 443: same as --transparent-https-port/],
    [{ transparentHttpPort: '99999' }, /--transparent-http-port: 99999 is outside 1-65535/],
    [{ stunPort: ['3478', '3478'] }, /--stun-port 3478: given twice/],
    [{ stunPort: ['53'], dnsPort: '53', dnsUpstream: '9.9.9.9' }, /--stun-port 53: .*same as --dns-port/],
  ])('rejects %j with one clear line', (flags, message) => {
    let error: unknown;
    try {
      validateStartFlags(flags);
    } catch (err: unknown) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('port 0 (tests) never clashes', () => {
    const c = validateStartFlags({ port: '0', dashboardPort: '0', transparentHttpsPort: '0', transparentHttpPort: '0', dnsPort: '0', dnsUpstream: '127.0.0.1', stunPort: ['0', '0'] });
    expect(c).toMatchObject({ transparentHttpsPort: 0, transparentHttpPort: 0, stunPorts: [0, 0], dns: { port: 0 } });
  });
});

describe('start options: enforcement', () => {
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
